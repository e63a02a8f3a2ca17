// Colours that read on light and dark backgrounds.
const COLORS = ["#d1495b", "#00798c", "#edae49", "#30638e", "#8f2d56", "#3a7d44", "#6a4c93", "#e07a5f"];

/** A user's cursor colour, the same in every session (hashed from the name). */
export function userColor(name: string): { color: string; colorLight: string } {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  const color = COLORS[hash % COLORS.length]!;
  return { color, colorLight: `${color}33` };
}
