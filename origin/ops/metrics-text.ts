/**
 * Reads the Prometheus text exposition format (what prom-client's
 * `registry.metrics()` and every edge's /metrics serve) into samples. Only
 * what the ops view needs: `name{label="value",...} number` lines; comments
 * and timestamps are skipped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export class MetricsFormatError extends Error {
  override name = "MetricsFormatError";
}

export function parseMetricsText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match) throw new MetricsFormatError(`line ${index + 1} is not a Prometheus sample: ${JSON.stringify(line.slice(0, 80))}`);
    const [, name, labelText = "", valueText] = match;
    const labels: Record<string, string> = {};
    for (const [, key, value] of labelText.matchAll(LABEL)) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    // prom-client writes a gauge without observations (the event-loop lag
    // before its first sample) as "Nan": read any spelling of NaN as NaN.
    if (Number.isNaN(value) && String(valueText).toLowerCase() !== "nan") throw new MetricsFormatError(`line ${index + 1} has no number: ${JSON.stringify(line.slice(0, 80))}`);
    samples.push({ name: name!, labels, value });
  }
  return samples;
}
