// Formatting of the figures for the console and docs/benchmarks.md: numbers, tables as aligned
// text and as markdown, goal verdicts.

/** A number with thousands separators and `digits` decimals; "n/a" when not finite. */
export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a";

/** A number with `digits` decimals and no separators (the log lines of the live group); "n/a" when not finite. */
export const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

/** A CPU share in percent of one core; "0" for a process group that used none. */
export const pct = (value: number | undefined) => (value === undefined ? "0" : fmt(value));

/** A table: column headers, rows of cells, and which columns align right. */
export interface Table {
  headers: string[];
  rows: string[][];
  align: boolean[];
}

export function textTable({ headers, rows, align }: Table): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (align[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function markdownTable({ headers, rows, align }: Table): string {
  return [
    `| ${headers.join(" | ")} |`,
    `|${align.map((r) => (r ? "---:" : ":---")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** A goal's verdict in markdown. */
export const metText = (met: boolean | null) => (met === null ? "not measured" : met ? "**met**" : "**not met**");

/** Markdown emphasis removed, for the console. */
export const plain = (markdown: string) => markdown.replaceAll("**", "");
