// docs/benchmarks.md sections of the as-of and mixed-workload scenarios. Each section sits
// between HTML comment markers, so a run of only some scenarios (BENCH_ONLY) replaces its own
// sections and keeps every other figure of the file as the last full run wrote it.
import type { CpuUsage } from "./cpu.js";
import { entrySpacingMs, type LookupStats, type SeededPair } from "./asof.js";
import type { MixedResult } from "./mixed.js";

export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a";

export function markdownTable(headers: string[], rows: string[][], alignRight: boolean[]): string {
  return [
    `| ${headers.join(" | ")} |`,
    `|${alignRight.map((r) => (r ? "---:" : ":---")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

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

const stampLines = (s: RunStamp) => `- Command: \`${s.command}\`\n- Date: ${s.date}; source measured: ${s.revision}\n- Machine: ${s.machine}`;

export interface AsofFigures {
  pairs: SeededPair[];
  stats: LookupStats[];
  /** Violations of the seeded accounts' invariants (scoped check), [] = all hold. */
  violations: string[];
  checkSeconds: number;
  vacuumSeconds: number;
}

/** The goal: the largest account's p50 and p99 within 2x of the smallest's (GraphQL). */
export function asofGoal(stats: LookupStats[]): { met: boolean; text: string } | null {
  const small = stats[0];
  const large = stats.at(-1);
  if (!small || !large || small === large) return null;
  const p50 = large.graphqlP50Ms / small.graphqlP50Ms;
  const p99 = large.graphqlP99Ms / small.graphqlP99Ms;
  const met = p50 <= 2 && p99 <= 2;
  return {
    met,
    text:
      `As-of lookup on ${fmt(large.entries)} entries within 2x of ${fmt(small.entries)} entries (GraphQL p50 and p99): ${met ? "**met**" : "**not met**"} — ` +
      `p50 ${fmt(large.graphqlP50Ms, 2)} vs ${fmt(small.graphqlP50Ms, 2)} ms = ${fmt(p50, 2)}x, p99 ${fmt(large.graphqlP99Ms, 2)} vs ${fmt(small.graphqlP99Ms, 2)} ms = ${fmt(p99, 2)}x ` +
      `(SQL alone: p50 ${fmt(large.sqlP50Ms / small.sqlP50Ms, 2)}x, p99 ${fmt(large.sqlP99Ms / small.sqlP99Ms, 2)}x).`,
  };
}

export function asofTable(f: AsofFigures): { headers: string[]; rows: string[][]; align: boolean[] } {
  return {
    headers: ["account", "entries", "lookups", "GraphQL p50 ms", "GraphQL p99 ms", "SQL p50 ms", "SQL p99 ms", "wrong answers"],
    align: [false, true, true, true, true, true, true, true],
    rows: f.stats.map((s) => [s.label, fmt(s.entries), fmt(s.samples), fmt(s.graphqlP50Ms, 2), fmt(s.graphqlP99Ms, 2), fmt(s.sqlP50Ms, 2), fmt(s.sqlP99Ms, 2), fmt(s.wrong)]),
  };
}

export function asofSection(f: AsofFigures, stamp: RunStamp): string {
  const t = asofTable(f);
  const goal = asofGoal(f.stats);
  const seeded = f.pairs.map((p) => `${p.label}: ${fmt(p.entries)} transfers in ${fmt(p.seedSeconds, 1)} s (${fmt(p.entries / Math.max(0.001, p.seedSeconds))}/s)`).join("; ");
  return marked(
    "asof",
    `## As-of balance lookups

${stampLines(stamp)}

${markdownTable(t.headers, t.rows, t.align)}

${goal ? `Goal: ${goal.text}` : "Goal: not measured (needs two account sizes)."}

- GraphQL: \`account(id) { balance(asOf: T) { posted pending available version } }\`, one request at a time
  from one keep-alive connection, T a random millisecond inside the account's history; p50 / p99 of the
  HTTP round trip. SQL: \`SELECT * FROM ledger_balances_at(tenant, account, ARRAY[T]::timestamptz[], false)\`
  from this script's own connection, round trip included. Lookups of the accounts are interleaved at random,
  so the machine's noise falls on both alike; warm-up lookups are not counted. "wrong answers": answers whose
  version or posted balance differ from the seeded running totals (there should be none).
- Plan of the lookup inside \`ledger_balances_at\`, mid-history (\`EXPLAIN (ANALYZE, BUFFERS)\`):
${f.stats.map((s) => `  - ${s.label}: \`${s.plan}\``).join("\n")}
- Seeding (not timed as part of the lookups): each account is the target of a funding account
  (\`minBalance: null\`) created through \`createAccount\` in a tenant of its own; the history is INSERTed
  in SQL (transfers, then both entries of each with running totals and versions 1..n, ${entrySpacingMs} ms apart,
  ending a minute ago; every 5th transfer moves a little back), then one UPDATE sets both accounts' totals,
  version and last entry; one transaction per pair, with every constraint and trigger on. ${seeded}.
  Then \`VACUUM (ANALYZE)\` of the ledger tables and a \`CHECKPOINT\` (${fmt(f.vacuumSeconds, 1)} s), as \`pgbench -i\` does.
- Invariants of the seeded accounts (totals = sums of entries, unbroken version/total/time chains, newest
  entry = account, two balancing entries per transfer, zero sum per currency, bounds): ${f.violations.length === 0 ? "all hold" : `**violated**: ${f.violations.join("; ")}`} (checked in ${fmt(f.checkSeconds, 1)} s).`,
  );
}

export interface MixedFigures {
  result: MixedResult;
  cpu: CpuUsage | null;
  waits: string;
  accounts: number;
  /** Rows read per request in ledger_bench (pg_stat_user_tables deltas, warm-up included). */
  scans: string;
}

export function mixedTable(r: MixedResult): { headers: string[]; rows: string[][]; align: boolean[] } {
  return {
    headers: ["operation", "ok in window", "per second", "p50 ms", "p99 ms"],
    align: [false, true, true, true, true],
    rows: [
      ...r.byKind.map((k) => [k.kind, fmt(k.count), fmt(k.perSecond, 1), fmt(k.p50Ms, 1), fmt(k.p99Ms, 1)]),
      ["all mutations", fmt(r.byKind.reduce((s, k) => s + k.count, 0)), fmt(r.mutationsPerSecond, 1), fmt(r.p50Ms, 1), fmt(r.p99Ms, 1)],
      ["of which post a transfer", "-", fmt(r.transfersPerSecond, 1), "-", "-"],
    ],
  };
}

export function mixedSection(f: MixedFigures, stamp: RunStamp, warmupSeconds: number): string {
  const r = f.result;
  const t = mixedTable(r);
  const g = f.cpu?.percentByGroup;
  const errors = [...r.failures].map(([label, n]) => `${label} x${n}`).join("; ");
  return marked(
    "mixed",
    `## Mixed workload: holds, captures, voids, transfers, reversals

${stampLines(stamp)}

${r.clients} clients, ${fmt(r.windowSeconds, 1)} s window after ${warmupSeconds} s of warm-up: **${fmt(r.mutationsPerSecond)} mutations/s**
(${fmt(r.transfersPerSecond)} of them posting a transfer), p99 ${fmt(r.p99Ms, 1)} ms over all mutations; ${fmt(r.flows)} flows completed
in the window; errors: ${r.failureCount}${errors ? ` (${errors})` : ""}.

${markdownTable(t.headers, t.rows, t.align)}

- Each client runs flows back to back, each chosen at random with equal weight: a hold captured in two
  parts (\`createHold\` -> \`captureHold(amount: half)\` -> \`captureHold\` of the rest), a hold voided
  (\`createHold\` -> \`voidHold\`), a transfer partly reversed (\`postTransfer\` -> \`reverseTransfer(amount: half)\`).
  Accounts: two distinct ones at random of the ${fmt(f.accounts)} USD accounts (\`minBalance: null\`), amounts 2..10,000;
  holds expire in an hour. Each step waits for the previous answer (it needs its id); every request
  carries a new idempotency key and selects only the new id.
- "ok in window": requests completed inside the window that answered the expected success type; latency
  is the HTTP round trip. "post a transfer": captures, postTransfer and reverseTransfer.
- CPU during the window (percent of one core): ${f.cpu ? `service ${fmt(g?.service ?? 0)}%, PostgreSQL ${fmt(g?.postgres ?? 0)}%, load generator ${fmt(g?.loadgen ?? 0)}%, other processes ${fmt(g?.other ?? 0)}%, machine busy ${fmt(f.cpu.machineBusyPercent ?? Number.NaN)}%` : "n/a"}.
  Ledger database sessions (mean active, by wait): ${f.waits}.
- Rows read in \`ledger_bench\` (\`pg_stat_user_tables\` deltas over the run, warm-up included; approximate): ${f.scans}.`,
  );
}
