// docs/benchmarks.md's sections. Each scenario group's section sits between HTML comment markers
// (`<!-- bench:NAME:start -->` ... `end`), so a run of only some groups (BENCH_ONLY) replaces its
// own sections and keeps every other figure of the file as the last full run wrote it.

const markers = (name: string) => [`<!-- bench:${name}:start -->`, `<!-- bench:${name}:end -->`] as const;

/** Wraps a section in its markers. */
export const marked = (name: string, body: string) => `${markers(name)[0]}\n${body.trim()}\n${markers(name)[1]}`;

/** The marked section `name` of `doc`, or null. */
export function sectionOf(doc: string, name: string): string | null {
  const [open, close] = markers(name);
  const from = doc.indexOf(open);
  const to = doc.indexOf(close, from);
  return from >= 0 && to > from ? doc.slice(from, to + close.length) : null;
}

/** Replaces the marked section `name` in `doc` (or inserts it before "## Method", else at the end). */
export function spliceSection(doc: string, name: string, section: string): string {
  const old = sectionOf(doc, name);
  if (old) return doc.replace(old, () => section);
  const method = doc.indexOf("\n## Method");
  return method >= 0 ? `${doc.slice(0, method)}\n${section}\n${doc.slice(method)}` : `${doc.trimEnd()}\n\n${section}\n`;
}

/** Where and how a section's figures were taken (each section can come from a different run). */
export interface RunStamp {
  command: string;
  date: string;
  revision: string;
  machine: string;
}

/** A section's opening lines: its command, date, source and machine. */
export const stampLines = (s: RunStamp) =>
  `- Command: \`${s.command}\`\n- Date: ${s.date}; source measured: ${s.revision}\n- Machine: ${s.machine}`;
