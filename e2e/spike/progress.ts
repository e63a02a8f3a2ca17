import type { LoadProgress } from "../load/load-plan";
import type { BrowserEditors } from "./browser-editors";

/** One line a second on the terminal while a level runs: where it is, the rates, the latency, and what is left. */
export function progressLine(level: string, progress: LoadProgress, durationS: number, browsers: BrowserEditors | undefined): string {
  const at = progress.atS < 0 ? `warm-up ${-progress.atS}s` : progress.atS < durationS ? `${progress.atS}/${durationS}s` : `drain +${progress.atS - durationS}s`;
  const remaining = progress.atS < durationS ? `${durationS - Math.max(0, progress.atS)}s left` : "";
  const typed = browsers ? `  browsers typed ${browsers.reports().reduce((sum, report) => sum + report.typed, 0)}` : "";
  const ms = (value: number) => (Number.isFinite(value) ? (value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US")) : "-");
  return (
    `  ${level.padEnd(6)} ${at.padEnd(12)} offered ${String(progress.offered).padStart(5)}/s  acked ${String(progress.acked).padStart(5)}/s  ` +
    `p50 ${ms(progress.p50Ms)} ms  p99 ${ms(progress.p99Ms)} ms  in flight ${progress.inFlight}${progress.failed ? `  failed ${progress.failed}` : ""}${typed}  ${remaining}`
  );
}
