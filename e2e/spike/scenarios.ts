import type { RatePoint } from "../load/load-plan";

/**
 * The spike's shapes. `red-wedding`: the episode's quiet first act, the
 * scene everybody rushes to the wiki for (a ramp to the peak, held), and
 * the quiet after; `steady`: the peak rate all along, for a level's
 * sustained figures. Times are fractions of the measured duration, so a
 * `--quick` run has the same shape, shorter.
 */
export const SCENARIOS = ["red-wedding", "steady"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface SpikeShape {
  /** Offered edits per second over all protocol editors, from the start of the warm-up. */
  rate: RatePoint[];
  /** Seconds into the measured window when the peak starts and ends (faults and the added replica happen inside it). */
  peakFromS: number;
  peakToS: number;
}

export function spikeShape(scenario: Scenario, options: { peakRate: number; baseRate: number; durationS: number; warmupS: number }): SpikeShape {
  const { peakRate, baseRate, durationS: d, warmupS: w } = options;
  if (scenario === "steady") return { rate: [{ atS: 0, perSecond: peakRate }], peakFromS: 0, peakToS: d };
  const at = (fraction: number) => Math.round((w + fraction * d) * 10) / 10;
  return {
    rate: [
      { atS: 0, perSecond: baseRate },
      { atS: at(0.2), perSecond: baseRate },
      { atS: at(0.35), perSecond: peakRate },
      { atS: at(0.65), perSecond: peakRate },
      { atS: at(0.8), perSecond: baseRate },
      { atS: at(1), perSecond: baseRate },
    ],
    peakFromS: Math.round(0.35 * d * 10) / 10,
    peakToS: Math.round(0.65 * d * 10) / 10,
  };
}
