/** How the ops view writes its figures; "—" is a figure that could not be read. */

export const NONE = "—";

export function perSecond(value: number | undefined): string {
  if (value === undefined) return NONE;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  return value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);
}

export function count(value: number | undefined): string {
  if (value === undefined) return NONE;
  // Chart axes tick at halves when the counts are small.
  return Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(1);
}

export function milliseconds(seconds: number | undefined): string {
  if (seconds === undefined) return NONE;
  const ms = seconds * 1000;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(ms >= 1 ? 1 : 2)} ms`;
}

export function bytes(value: number | undefined): string {
  if (value === undefined) return NONE;
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(2)} GiB`;
  if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(0)} MiB`;
  if (value >= 1024) return `${(value / 1024).toFixed(0)} KiB`;
  return `${value.toFixed(0)} B`;
}

export function age(seconds: number | undefined): string {
  if (seconds === undefined) return "never";
  if (seconds < 60) return `${seconds.toFixed(1)} s ago`;
  return `${Math.floor(seconds / 60)} min ${Math.floor(seconds % 60)} s ago`;
}

export function factor(value: number | undefined): string {
  if (value === undefined) return NONE;
  return value >= 100 ? `${Math.round(value).toLocaleString("en")}×` : `${value.toFixed(1)}×`;
}

export function clock(at: number): string {
  return new Date(at).toLocaleTimeString("en-GB", { hour12: false });
}
