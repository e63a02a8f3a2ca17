/** How times, sizes and counts read in the wiki's lists (server-rendered, so in UTC). */

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)} UTC`;
}

/** HH:MM:SS in the browser's time zone, for the editor's status line. */
export function formatClock(at: Date | number): string {
  return new Date(at).toLocaleTimeString("en-GB", { hour12: false });
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString("en")} ${count === 1 ? one : many}`;
}

export function formatBytes(bytes: number): string {
  return bytes < 1024 ? plural(bytes, "byte") : `${(bytes / 1024).toFixed(1)} KB`;
}
