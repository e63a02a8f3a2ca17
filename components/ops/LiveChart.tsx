"use client";

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  label: string;
  color: string;
}

export interface LiveChartProps {
  title: string;
  testId: string;
  series: ChartSeries[];
  /** uPlot's aligned data: [x (unix seconds), ...one array per series]; null is a gap (no reading). */
  data: (number | null)[][];
  format: (value: number) => string;
}

function cssVariable(element: HTMLElement, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

/**
 * One live time-series chart (uPlot, bundled by Next: no CDN). The chart is
 * built once per set of series and only fed new data afterwards, so that a
 * snapshot a second costs a redraw, not a rebuild. Colours come from the
 * page's CSS variables, so it follows light and dark mode.
 */
export function LiveChart({ title, testId, series, data, format }: LiveChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const seriesKey = series.map((s) => `${s.label}:${s.color}`).join("|");

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const axis = cssVariable(element, "--muted", "#5f6368");
    const grid = cssVariable(element, "--border", "#dedbd2");
    const font = `12px ${cssVariable(element, "--sans", "sans-serif")}`;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 180,
      legend: { show: true, live: false },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font, size: 72, values: (_u, values) => values.map(format) },
      ],
      series: [
        {},
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? "—" : format(v)) })),
      ],
    };
    const plot = new uPlot(options, data as uPlot.AlignedData, element);
    chart.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // Rebuilt only when the series change; data updates go through setData below.
  }, [seriesKey]);

  useEffect(() => {
    chart.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure className="ops-chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={holder} className="ops-chart-canvas" data-points={data[0]?.length ?? 0} />
    </figure>
  );
}
