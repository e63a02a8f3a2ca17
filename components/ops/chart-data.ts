import type { Durability, OpsSnapshot, PopView } from "../../origin/ops/snapshot-types";
import type { ChartSeries } from "./LiveChart";

const PALETTE = ["#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f59f00", "#0ca678"];
const DURABILITY_COLOURS: Record<Durability, string> = { edge: "#2f9e44", pop: "#1c7ed6", origin: "#e8590c" };

export interface Chart {
  series: ChartSeries[];
  data: (number | null)[][];
}

/** The x axis of every chart: each snapshot's time in unix seconds. */
function times(history: OpsSnapshot[]): number[] {
  return history.map((snapshot) => snapshot.at / 1000);
}

/** Every PoP seen in the history, in name order (a PoP that vanished keeps its line, with gaps). */
function popsOf(history: OpsSnapshot[]): string[] {
  return [...new Set(history.flatMap((snapshot) => snapshot.pops.map((pop) => pop.pop)))].sort();
}

function perPop(history: OpsSnapshot[], figure: (pop: PopView | undefined) => number | undefined): Chart {
  const pops = popsOf(history);
  return {
    series: pops.map((pop, i) => ({ label: pop, color: PALETTE[i % PALETTE.length]! })),
    data: [times(history), ...pops.map((name) => history.map((snapshot) => figure(snapshot.pops.find((pop) => pop.pop === name)) ?? null))],
  };
}

export function ackedEditsChart(history: OpsSnapshot[]): Chart {
  return perPop(history, (pop) => pop?.acceptedPerSecond);
}

export function dirtyPagesChart(history: OpsSnapshot[]): Chart {
  return perPop(history, (pop) => pop?.dirtyPages);
}

export function ackLatencyChart(history: OpsSnapshot[]): Chart {
  const levels = (["edge", "pop", "origin"] as const).filter((level) => history.some((snapshot) => snapshot.ackLatency[level]));
  return {
    series: levels.map((level) => ({ label: `p99 at ${level}`, color: DURABILITY_COLOURS[level] })),
    data: [times(history), ...levels.map((level) => history.map((snapshot) => snapshot.ackLatency[level]?.p99 ?? null))],
  };
}

export function originChart(history: OpsSnapshot[]): Chart {
  return {
    series: [
      { label: "transactions/s", color: PALETTE[0]! },
      { label: "pages merged/s", color: PALETTE[1]! },
    ],
    data: [
      times(history),
      history.map((snapshot) => snapshot.origin.batchesPerSecond ?? null),
      history.map((snapshot) => snapshot.origin.pagesPerSecond ?? null),
    ],
  };
}
