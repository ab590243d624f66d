// docs/benchmarks.md sections of the as-of, mixed-workload and live-subscription scenarios. Each
// section sits between HTML comment markers, so a run of only some scenarios (BENCH_ONLY) replaces
// its own sections and keeps every other figure of the file as the last full run wrote it.
import { marked, stampLines, type RunStamp } from "./lib/docs.js";
import { fmt, markdownTable, metText, type Table } from "./lib/format.js";
import { mean } from "./lib/stats.js";
import type { CpuUsage } from "./lib/proc.js";
import { entrySpacingMs, type LookupStats, type SeededPair } from "./asof.js";
import type { MixedResult } from "./mixed.js";
import { neighbourBaselines, type LiveFigures, type LiveLevel } from "./live.js";
import type { WriteCost } from "./write-costs.js";

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
      `As-of lookup on ${fmt(large.entries)} entries within 2x of ${fmt(small.entries)} entries (GraphQL p50 and p99): ${metText(met)} — ` +
      `p50 ${fmt(large.graphqlP50Ms, 2)} vs ${fmt(small.graphqlP50Ms, 2)} ms = ${fmt(p50, 2)}x, p99 ${fmt(large.graphqlP99Ms, 2)} vs ${fmt(small.graphqlP99Ms, 2)} ms = ${fmt(p99, 2)}x ` +
      `(SQL alone: p50 ${fmt(large.sqlP50Ms / small.sqlP50Ms, 2)}x, p99 ${fmt(large.sqlP99Ms / small.sqlP99Ms, 2)}x).`,
  };
}

export function asofTable(f: AsofFigures): Table {
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

${markdownTable(t)}

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

export function mixedTable(r: MixedResult): Table {
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

/** Mixed-workload mutations/s before the write engine (docs/benchmarks.md, commit 8e468ac). */
export const mixedBefore = 382;

/** The issue's goal: the mixed workload at 3x its rate before the write engine. */
export function mixedGoal(r: MixedFigures["result"]): { met: boolean; text: string } {
  const met = r.mutationsPerSecond >= 3 * mixedBefore;
  return {
    met,
    text: `mixed holds / captures / voids / reversals >= 3x the ${mixedBefore} mutations/s before the write engine (${fmt(3 * mixedBefore)}): ` +
      `${metText(met)} — ${fmt(r.mutationsPerSecond)} mutations/s = ${fmt(r.mutationsPerSecond / mixedBefore, 2)}x.`,
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

Goal: ${mixedGoal(r).text}

${markdownTable(t)}

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

const pair = (a: number, b: number, digits: number) => `${fmt(a, digits)} / ${fmt(b, digits)}`;
const cpuOf = (l: LiveLevel, group: string) => (l.cpu ? `${fmt(l.cpu.percentByGroup[group] ?? 0)}%` : "n/a");
const counts = (c: Record<string, number>) => Object.entries(c).map(([label, n]) => `${label} x${n}`).join("; ");

/** The results and resources tables of the live group, and per-level notes. */
export function liveTables(f: LiveFigures): { results: Table; resources: Table; notes: string[] } {
  const ran = f.levels.filter((l) => l.write);
  const notes: string[] = [];
  for (const l of f.levels) {
    const d = l.delivery;
    const parts = [
      ...l.notes,
      l.subscribers > 0 && l.write ? `${fmt(l.opened)} connections subscribed in ${fmt(l.openSeconds, 1)} s (${fmt(f.openBatch)} at a time), ${fmt(l.live)} proven live by a probe event` : "",
      Object.keys(l.openFailures).length ? `connection failures: ${counts(l.openFailures)}` : "",
      d && d.beforeAnswer ? `${fmt(d.beforeAnswer)} of ${fmt(d.events)} events arrived before the writer had the HTTP answer (counted as 0 ms after it)` : "",
      d ? `events drained ${fmt(d.drainSeconds, 1)} s after the load` : "",
      d && (d.extra || d.unknownTransfer || d.gaps || d.malformed) ? `extra ${fmt(d.extra)}, of unknown transfers ${fmt(d.unknownTransfer)}, version gaps ${fmt(d.gaps)}, malformed ${fmt(d.malformed)}` : "",
      Object.keys(l.closedEarly).length ? `closed by the server during the run: ${counts(l.closedEarly)}` : "",
      Object.keys(l.errors).length ? `subscription errors: ${counts(l.errors)}` : "",
      l.closed && l.closed.forced ? `${fmt(l.closed.forced)} connections did not finish their close handshake within 10 s (terminated)` : "",
      l.write && l.write.failureCount ? `write errors: ${counts(Object.fromEntries(l.write.failures))}` : "",
      l.clock ? `clock offset to the subscriber process ${fmt(l.clock.offsetMs, 2)} ms (fastest IPC ping ${fmt(l.clock.rttMs, 2)} ms)` : "",
    ].filter(Boolean);
    if (parts.length) notes.push(`${l.label} subscribers: ${parts.join("; ")}.`);
  }
  return {
    results: {
      headers: ["subscribers", "live", "transfers/s", "lost vs none", "write p50 / p99 ms", "delivery p50 / p99 ms after the answer", "after the request was sent", "events/s", "events received / expected", "missing", "duplicates"],
      align: [false, true, true, true, true, true, true, true, true, true, true],
      rows: f.levels.map((l) => {
        const d = l.delivery;
        const w = l.write;
        if (!w) return [l.label, "-", "not run", "-", "-", "-", "-", "-", "-", "-", "-"];
        return [
          l.label,
          l.subscribers ? fmt(l.live) : "-",
          fmt(w.transfersPerSecond),
          l.lossPercent === null ? "-" : `${fmt(l.lossPercent, 1)}%`,
          pair(w.p50Ms, w.p99Ms, 1),
          d ? pair(d.afterAnswerMs.p50, d.afterAnswerMs.p99, 1) : "-",
          d ? pair(d.afterSentMs.p50, d.afterSentMs.p99, 1) : "-",
          d ? fmt(d.perSecond) : "-",
          d ? `${fmt(d.received)} / ${fmt(d.expected)}` : "-",
          d ? fmt(d.missing) : "-",
          d ? fmt(d.duplicates) : "-",
        ];
      }),
    },
    resources: {
      headers: ["subscribers", "service", "PostgreSQL", "writers (this script)", "subscriber process", "other processes", "machine busy", "service thread waiting for a CPU", "PG transactions / transfer", "service RSS MB: peak / end of window", "subscriber process RSS MB", "service fds after closing"],
      align: [false, true, true, true, true, true, true, true, true, true, true, true],
      rows: ran.map((l) => [
        l.label,
        cpuOf(l, "service"),
        cpuOf(l, "postgres"),
        cpuOf(l, "loadgen"),
        l.subscribers ? cpuOf(l, "subscribers") : "-",
        cpuOf(l, "other"),
        l.cpu ? `${fmt(l.cpu.machineBusyPercent ?? Number.NaN)}%` : "n/a",
        l.serviceThread ? `${fmt(l.serviceThread.waitPercent)}%` : "n/a",
        l.dbTransactionsPerTransfer === null ? "n/a" : fmt(l.dbTransactionsPerTransfer, 1),
        l.serviceRssMb ? pair(l.serviceRssMb.peak, l.serviceRssMb.end, 0) : "n/a",
        l.subscriberRssMbPeak === null ? "-" : fmt(l.subscriberRssMbPeak),
        l.serviceFdsAfter === null ? "n/a" : fmt(l.serviceFdsAfter),
      ]),
    },
    notes,
  };
}

/**
 * The issue's goal: 1,000 live subscribers cost at most 20 % of write throughput. Every 1,000
 * window against the 0-subscriber windows around them (each window once), pooled.
 */
export function liveGoal(levels: LiveLevel[]): { met: boolean; text: string } | null {
  const windows = levels.filter((l) => l.subscribers === 1000 && l.write && l.lossPercent !== null);
  if (windows.length === 0) return null;
  const baselines = [...new Set(windows.flatMap((l) => neighbourBaselines(levels, l)))];
  const tps = (ls: LiveLevel[]) => mean(ls.map((l) => l.write!.transfersPerSecond));
  const loss = 100 * (1 - tps(windows) / tps(baselines));
  const allLive = windows.every((l) => l.live === 1000);
  const met = loss <= 20 && allLive;
  return {
    met,
    text:
      `1,000 subscribers cost at most 20 % of write throughput: ${metText(met)} — ${fmt(tps(windows))} transfers/s ` +
      `on average over ${windows.length} windows with 1,000 subscribers (${windows.map((l) => fmt(l.live)).join(", ")} live) vs ${fmt(tps(baselines))} ` +
      `over the ${baselines.length} windows with none around them = ${fmt(loss, 1)} % lost.`,
  };
}

export function liveSection(f: LiveFigures, stamp: RunStamp, seconds: number, warmupSeconds: number): string {
  const t = liveTables(f);
  const goal = liveGoal(f.levels);
  const stderr = f.serviceStderrLines;
  return marked(
    "live",
    `## Live subscriptions under write load

${stampLines(stamp)}

${markdownTable(t.results)}

${goal ? `Goal: ${goal.text}` : "Goal: not measured (needs a run with 1,000 subscribers)."}

Resources during each window (CPU in percent of one core, from \`/proc\`; the subscribers' client
process shares the machine with the service and PostgreSQL, so part of any loss is the clients' CPU;
"PG transactions / transfer": \`xact_commit + xact_rollback\` of the ledger database from before the load to
after its events drained, per posted transfer: the writer's own, the change feed's looks and the rows each
event loads):

${markdownTable(t.resources)}

${t.notes.map((n) => `- ${n}`).join("\n")}
- Limits: ${f.limits}; the service had ${f.serviceFdsBefore ?? "?"} descriptors open before the first level.
- Service stderr during this group: ${stderr.length === 0 ? "nothing" : `${stderr.length}${stderr.length >= 500 ? "+" : ""} lines, first: \`${stderr.slice(0, 3).join(" | ").slice(0, 300)}\``}.

- Load: ${f.writers} closed-loop writers send \`postTransfer\` between two distinct accounts picked at random from
  ${fmt(f.accounts)} USD accounts (\`minBalance: null\`, so none is refused), the same request as the uniform
  scenario above; ${seconds} s window after ${warmupSeconds} s of warm-up, the same load for every row.
  Windows with and without subscribers alternate (1,000 twice), and each window starts after
  \`VACUUM ANALYZE\` and a \`CHECKPOINT\`, so neither the tables' growth nor the checkpoint cycle favours
  the windows that come first. "lost vs none": transfers/s against the mean of the 0-subscriber windows
  just before and after. From the first subscription on, the service's change feed keeps running in the
  0-subscriber windows too, so the loss is what the subscribers add on top of the feed.
- Subscribers: one WebSocket connection each (\`ws\`, graphql-transport-ws spoken by hand: \`connection_init\`
  with the API key, \`connection_ack\`, one \`subscribe\`), all in one child process
  (\`bench/live-subscribers.ts\`), opened ${fmt(f.openBatch)} at a time before the load. Subscriber i watches
  account i mod ${fmt(f.accounts)}: \`balanceChanged(accountIds: [id]) { version account { id } transfer { id } }\`,
  so each transfer is expected by every subscriber of its two accounts. Before the load, a probe transfer on each
  watched account proves every subscription live ("live"); those events are not counted.
- Delivery latency, per event of a transfer answered inside the window: the subscriber's receive time (taken
  before parsing) minus the time the writer received the HTTP answer of that \`postTransfer\` (the commit came
  before it: a lower bound of commit -> client; events that beat the answer count as 0), and minus the time the
  request was sent (an upper bound). The two processes' wall clocks are compared over IPC before each level and
  the offset is subtracted. events/s: events received inside the window.
- Completeness, over the whole load (warm-up included, after the load drained): received / expected events per
  transfer; "missing" sums the shortfalls, "duplicates" counts events whose version was not above the
  subscriber's previous one (each account's versions must rise by one per event).`,
  );
}

export function writeCostsSection(costs: WriteCost[], stamp: RunStamp): string {
  const rows = costs.map((c) => [c.table, c.structure, c.kept ? "kept" : "**dropped**", fmt(c.microsPerRow, 1), fmt(c.walBytesPerRow)]);
  const saved = (table: string) => costs.filter((c) => c.table === table && !c.kept).reduce((sum, c) => sum + c.walBytesPerRow, 0);
  return marked(
    "costs",
    `## What each structure of the hot tables costs per row

${stampLines(stamp)}

Copies of \`entries\` and \`transfers\` (their columns only) in a scratch database, each filled with
20,000 rows in batches of 100 (as the write engine writes them) after a checkpoint, once per added
structure, each structure on top of those above it: the figures are what that structure adds per
row. Time is the best of three fillings and still moves by a few µs on this shared machine; WAL
bytes do not move. The rows marked dropped are what the write engine's data model removed
(\`prisma/migrations/*_write_engine*\`): per posted two-leg transfer they saved about
${fmt(2 * saved("entries") + saved("transfers"))} bytes of WAL (2 entries and 1 transfer), before
full-page images, which random keys multiplied after each checkpoint.

${markdownTable({ headers: ["table", "structure", "write engine", "µs per row", "WAL bytes per row"], rows, align: [false, false, false, true, true] })}`,
  );
}
