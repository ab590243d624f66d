// The "mixed" scenario group and its section of docs/benchmarks.md. Mixed write workload:
// closed-loop clients each running flows of dependent mutations, chosen at random with equal
// weight:
//   hold, captured in two parts: createHold -> captureHold(part) -> captureHold(the rest)
//   hold, voided:                createHold -> voidHold
//   transfer, partly reversed:   postTransfer -> reverseTransfer(part)
// Every request's latency is recorded by kind; counts are of the requests completed inside the
// window that answered the expected success type.
import http from "node:http";
import { leanDocuments } from "../../test/support/ledger-client.js";
import type { Bench, Settings } from "../lib/context.js";
import { marked, stampLines, type RunStamp } from "../lib/docs.js";
import { fmt, markdownTable, metText, plain, textTable, type Table } from "../lib/format.js";
import { log, sleep } from "../lib/lifecycle.js";
import { logFailures, measurementWindow, postGraphql, requestTimeoutMs, type Endpoint, type LoadOutcome } from "../lib/load.js";
import type { CpuUsage } from "../lib/proc.js";
import { describeWaits, scansSince, tableCounters, windowSampler } from "../lib/sampling.js";
import { percentile } from "../lib/stats.js";

export const mixedKinds = [
  "createHold",
  "captureHold (part)",
  "captureHold (rest)",
  "voidHold",
  "postTransfer",
  "reverseTransfer (part)",
] as const;
export type MixedKind = (typeof mixedKinds)[number];
/** Kinds whose success posts a transfer (captures post one per call). */
export const transferKinds: readonly MixedKind[] = ["captureHold (part)", "captureHold (rest)", "postTransfer", "reverseTransfer (part)"];

const { createHold, captureHold, voidHold, postTransfer, reverseTransfer } = leanDocuments;
const mutations = { createHold, captureHold, voidHold, postTransfer, reverseTransfer };

interface MixedSpec {
  clients: number;
  warmupMs: number;
  measureMs: number;
  requestTimeoutMs: number;
  /** Two distinct accounts (raw ids) of one currency; minBalance null, so no flow is refused. */
  randomPair: () => [string, string];
  currency: string;
  nextKey: () => string;
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
  shouldAbort?: () => string | null;
}

export interface KindStats {
  kind: MixedKind;
  /** Successful requests completed inside the window. */
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface MixedResult extends LoadOutcome {
  byKind: KindStats[];
  mutationsPerSecond: number;
  transfersPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Completed flows (all steps succeeded) that ended inside the window. */
  flows: number;
}

async function mixedLoad(spec: MixedSpec, endpoint: Endpoint): Promise<MixedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.clients, maxFreeSockets: spec.clients });
  const window = measurementWindow(spec);
  const latencies = new Map<MixedKind, number[]>(mixedKinds.map((k) => [k, []]));
  const failures = new Map<string, number>();
  let failureCount = 0;
  let allRequests = 0;
  let flows = 0;
  let aborted: string | null = null;

  /** Sends one mutation; returns the result object if it is `success`, else null (failure recorded). */
  async function send(
    kind: MixedKind,
    field: keyof typeof mutations,
    input: Record<string, unknown>,
    success: string,
  ): Promise<Record<string, any> | null> {
    const body = JSON.stringify({ query: mutations[field], variables: { input: { idempotencyKey: spec.nextKey(), ...input } } });
    const sent = performance.now();
    let result: Record<string, any> | null = null;
    let label: string | null = null;
    try {
      const answer = await postGraphql(agent, endpoint, body, spec.requestTimeoutMs);
      const json = JSON.parse(answer.text) as { data?: Record<string, any>; errors?: { message?: string }[] };
      result = json.data?.[field] ?? null;
      if (json.errors?.length) label = `${kind}: GraphQL error ${json.errors[0]?.message ?? "?"}`.slice(0, 200);
      else if (result?.__typename !== success)
        label = `${kind}: result ${result?.__typename ?? "none"}${result?.code ? ` (${result.code})` : ""}`;
    } catch (error) {
      label = `${kind}: transport ${error instanceof Error ? error.message : String(error)}`;
    }
    const done = performance.now();
    allRequests += 1;
    if (label) {
      failureCount += 1;
      failures.set(label, (failures.get(label) ?? 0) + 1);
      if (label.includes("transport")) await sleep(50); // a dead server must not become a busy spin
      return null;
    }
    if (window.contains(done)) latencies.get(kind)!.push(done - sent);
    return result;
  }

  const amount = () => 2 + Math.floor(Math.random() * 9_999);
  const open = () => window.open() && aborted === null;

  async function flow(): Promise<boolean> {
    const [from, to] = spec.randomPair();
    const total = amount();
    const part = Math.floor(total / 2);
    const legs = { from: { id: from }, to: { id: to }, amount: String(total), currency: spec.currency };
    const choice = Math.floor(Math.random() * 3);
    if (choice === 2) {
      const posted = await send("postTransfer", "postTransfer", legs, "TransferPosted");
      if (!posted || !open()) return false;
      return (
        (await send(
          "reverseTransfer (part)",
          "reverseTransfer",
          { transferId: posted.transfer.id, amount: String(part) },
          "TransferReversed",
        )) !== null
      );
    }
    const created = await send("createHold", "createHold", { ...legs, expiresInSeconds: 3600 }, "HoldCreated");
    if (!created || !open()) return false;
    const holdId = created.hold.id as string;
    if (choice === 1) return (await send("voidHold", "voidHold", { holdId }, "HoldVoided")) !== null;
    if (!(await send("captureHold (part)", "captureHold", { holdId, amount: String(part) }, "HoldCaptured")) || !open()) return false;
    return (await send("captureHold (rest)", "captureHold", { holdId }, "HoldCaptured")) !== null;
  }

  async function client(): Promise<void> {
    while (open()) {
      const reason = spec.shouldAbort?.();
      if (reason) {
        aborted = reason;
        return;
      }
      const completed = await flow();
      const now = performance.now();
      if (completed && window.contains(now)) flows += 1;
    }
  }

  let windowSeconds = 0;
  try {
    await Promise.all(Array.from({ length: spec.clients }, () => client()));
  } finally {
    windowSeconds = window.close();
    agent.destroy();
  }
  const perSecond = (n: number) => (windowSeconds > 0 ? n / windowSeconds : 0);
  const byKind = mixedKinds.map((kind) => {
    const sorted = latencies.get(kind)!.sort((a, b) => a - b);
    return {
      kind,
      count: sorted.length,
      perSecond: perSecond(sorted.length),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
    };
  });
  const all = [...latencies.values()].flat().sort((a, b) => a - b);
  const transfers = byKind.filter((k) => transferKinds.includes(k.kind)).reduce((sum, k) => sum + k.count, 0);
  return {
    clients: spec.clients,
    windowSeconds,
    byKind,
    mutationsPerSecond: perSecond(all.length),
    transfersPerSecond: perSecond(transfers),
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    flows,
    failures,
    failureCount,
    allRequests,
    aborted,
  };
}

/** Bound on the group's run, for the watchdog. */
export const expectedSeconds = (s: Settings) => s.seconds + s.warmupSeconds + 10;

/** The workload on the shared accounts, with the CPU, the sessions' waits and the rows read of its window. */
export async function run(bench: Bench): Promise<MixedFigures> {
  const { seconds, warmupSeconds, mixedClients } = bench.settings;
  const { statsClient, workload } = bench;
  log(`mixed workload (holds, captures, voids, transfers, reversals), ${mixedClients} clients: ${warmupSeconds} s warm-up + ${seconds} s`);
  const window = windowSampler(bench.processes.classify, statsClient, "ledger_bench");
  const countersBefore = await tableCounters(statsClient);
  const result = await mixedLoad(
    {
      clients: mixedClients,
      warmupMs: warmupSeconds * 1000,
      measureMs: seconds * 1000,
      requestTimeoutMs,
      randomPair: workload.randomPair,
      currency: "USD",
      nextKey: workload.nextKey,
      onWindowStart: window.start,
      onWindowEnd: window.end,
      shouldAbort: bench.service.exited,
    },
    bench.endpoint,
  );
  const { cpu, waits } = await window.result();
  const scans = await scansSince(statsClient, countersBefore, result.allRequests);
  const scansText = `${fmt(scans.seqScansPerRequest, 1)} sequential scans and ${fmt(scans.rowsPerRequest, 1)} rows read per request (${
    scans.byTable
      .slice(0, 5)
      .map(([t, n]) => `${t} ${fmt(n, 1)}`)
      .join(", ") || "-"
  })`;
  const figures = { result, cpu, waits: describeWaits(waits), accounts: workload.accounts.length, scans: scansText };
  log(`  ${scansText}`);
  log(
    `  ${fmt(result.mutationsPerSecond)} mutations/s (${fmt(result.transfersPerSecond)} posting a transfer), p50 ${fmt(result.p50Ms, 1)} ms, p99 ${fmt(result.p99Ms, 1)} ms, errors ${result.failureCount}; sessions: ${figures.waits}`,
  );
  logFailures(result.failures);
  if (result.aborted) throw new Error(`mixed workload: ${result.aborted}`);
  return figures;
}

export function print(f: MixedFigures): void {
  console.log(`\nMixed workload, ${f.result.clients} clients (${fmt(f.result.windowSeconds, 1)} s window; latencies per HTTP request)\n`);
  console.log(textTable(table(f.result)));
  console.log(`Goal: ${plain(goal(f.result).text)}`);
}

/** Failed requests (there should be none). */
export const errors = (f: MixedFigures) => f.result.failureCount;

export interface MixedFigures {
  result: MixedResult;
  cpu: CpuUsage | null;
  waits: string;
  accounts: number;
  /** Rows read per request in ledger_bench (pg_stat_user_tables deltas, warm-up included). */
  scans: string;
}

function table(r: MixedResult): Table {
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
const mixedBefore = 382;

/** The issue's goal: the mixed workload at 3x its rate before the write engine. */
function goal(r: MixedResult): { met: boolean; text: string } {
  const met = r.mutationsPerSecond >= 3 * mixedBefore;
  return {
    met,
    text:
      `mixed holds / captures / voids / reversals >= 3x the ${mixedBefore} mutations/s before the write engine (${fmt(3 * mixedBefore)}): ` +
      `${metText(met)} — ${fmt(r.mutationsPerSecond)} mutations/s = ${fmt(r.mutationsPerSecond / mixedBefore, 2)}x.`,
  };
}

export function section(f: MixedFigures, stamp: RunStamp, { warmupSeconds }: Settings): string {
  const r = f.result;
  const t = table(r);
  const g = f.cpu?.percentByGroup;
  const errors = [...r.failures].map(([label, n]) => `${label} x${n}`).join("; ");
  return marked(
    "mixed",
    `## Mixed workload: holds, captures, voids, transfers, reversals

${stampLines(stamp)}

${r.clients} clients, ${fmt(r.windowSeconds, 1)} s window after ${warmupSeconds} s of warm-up: **${fmt(r.mutationsPerSecond)} mutations/s**
(${fmt(r.transfersPerSecond)} of them posting a transfer), p99 ${fmt(r.p99Ms, 1)} ms over all mutations; ${fmt(r.flows)} flows completed
in the window; errors: ${r.failureCount}${errors ? ` (${errors})` : ""}.

Goal: ${goal(r).text}

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
