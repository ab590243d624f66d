// The "live" scenario group and its section of docs/benchmarks.md: the same postTransfer load
// (closed-loop writers, uniform random pairs of the accounts) in windows that alternate between 0
// subscribers and each subscriber count (the first count twice), each after VACUUM ANALYZE and a
// CHECKPOINT; a count's loss is against the 0-subscriber windows just before and after it.
// Subscribers run in a child process (bench/scenarios/live-subscribers.ts), subscriber i
// watching account i mod K.
//
// Delivery latency, per event: the child's receive time minus the time the writer got the HTTP
// answer of the transfer's postTransfer (the commit came before the answer, so this is a lower
// bound of commit -> client), and minus the time the request was sent (an upper bound). The two
// processes' clocks are compared over IPC before each level (offset from the fastest ping).
// Completeness: each transfer must reach every live subscriber of its two accounts once.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import http from "node:http";
import os from "node:os";
import { leanDocuments } from "../../test/support/ledger-client.js";
import type { Bench, Settings } from "../lib/context.js";
import { marked, stampLines, type RunStamp } from "../lib/docs.js";
import { fixed as f, fmt, markdownTable, metText, plain, textTable, type Table } from "../lib/format.js";
import { log, sleep, track } from "../lib/lifecycle.js";
import {
  postGraphql,
  requestTimeoutMs,
  runScenario,
  type Endpoint,
  type HttpAnswer,
  type ScenarioResult,
  type Verdict,
} from "../lib/load.js";
import {
  cpuSnapshot,
  cpuUsage,
  fdLimit,
  mainThreadSchedstat,
  openFds,
  portRange,
  rssMb,
  schedShares,
  type Classify,
  type CpuSnapshot,
  type CpuUsage,
  type ThreadSchedstat,
} from "../lib/proc.js";
import { databaseTransactions, settleTables } from "../lib/sampling.js";
import { projectRoot } from "../lib/service.js";
import { baselinesAround, mean, percentile } from "../lib/stats.js";
import { judgeSingle } from "../lib/workload.js";
import type { ChildMessage, Closed, Collected, Opened, ParentMessage, Status } from "./live-subscribers.js";

interface LiveSpec {
  /** Subscriber counts to measure, in order (each > 0). */
  levels: number[];
  writers: number;
  warmupMs: number;
  measureMs: number;
  requestTimeoutMs: number;
  /** Global ids of the K accounts (minBalance null: no transfer is refused). */
  accounts: string[];
  endpoint: Endpoint;
  apiKey: string;
  /** A postTransfer request body between two accounts (the same as the uniform scenario's). */
  transferBody: (from: string, to: string) => string;
  judge: (answer: HttpAnswer) => Verdict;
  nextKey: () => string;
  servicePid: number;
  classify: Classify;
  /** Connections opened at once. */
  openBatch: number;
  shouldAbort: () => string | null;
  /** Transactions committed or rolled back in the ledger database so far (pg_stat_database), if known. */
  dbTransactions?: () => Promise<number>;
  /**
   * Run before every window (VACUUM ANALYZE and a CHECKPOINT): each window starts from the same
   * table state and WAL position in the checkpoint cycle, so the order of windows does not bias them.
   */
  betweenWindows?: () => Promise<void>;
  /** Windows of the first subscriber level, each between two 0-subscriber windows (default 2). */
  firstLevelRepeats?: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface Delivery {
  /** Events of transfers answered inside the window. */
  events: number;
  afterAnswerMs: Percentiles;
  afterSentMs: Percentiles;
  /** Events received before the writer had the HTTP answer (clamped to 0 in afterAnswerMs). */
  beforeAnswer: number;
  /** Events received inside the window, per second. */
  perSecond: number;
  /** Over the whole load (warm-up included): events expected and received for known transfers. */
  expected: number;
  received: number;
  missing: number;
  /** Events beyond the expected count of their transfer (a subscriber that was not counted live, or a repeat). */
  extra: number;
  /** From the subscribers' version chains (repeated or out-of-order versions, skipped versions). */
  duplicates: number;
  gaps: number;
  malformed: number;
  /** Events of transfers the writers have no answer for (a request that failed after committing). */
  unknownTransfer: number;
  drainSeconds: number;
}

export interface LiveLevel {
  label: string;
  subscribers: number;
  /** Connections acknowledged and subscribed; live: of those, proven live by a probe event. */
  opened: number;
  live: number;
  openSeconds: number;
  openFailures: Record<string, number>;
  notes: string[];
  write: ScenarioResult | null;
  /**
   * Write throughput lost against the mean of the 0-subscriber windows just before and after this
   * one, percent (negative: gained); null for 0-subscriber windows.
   */
  lossPercent: number | null;
  delivery: Delivery | null;
  cpu: CpuUsage | null;
  serviceThread: { runPercent: number; waitPercent: number } | null;
  serviceRssMb: { peak: number; end: number } | null;
  subscriberRssMbPeak: number | null;
  /**
   * Transactions of the ledger database per posted transfer, from before the load to after its
   * events drained (the writers' own, the change feed's looks and the events' row loads).
   */
  dbTransactionsPerTransfer: number | null;
  /** Open file descriptors of the service a second after the level's subscribers closed. */
  serviceFdsAfter: number | null;
  closedEarly: Record<string, number>;
  errors: Record<string, number>;
  closed: { clean: number; forced: number } | null;
  clock: { offsetMs: number; rttMs: number } | null;
}

export interface LiveFigures {
  levels: LiveLevel[];
  writers: number;
  accounts: number;
  openBatch: number;
  /** `ulimit -n` of this process and of the service, the ephemeral port range, fds before. */
  limits: string;
  serviceFdsBefore: number | null;
  serviceStderrLines: string[];
}

const wallNow = () => performance.timeOrigin + performance.now();

function percentiles(values: Float64Array): Percentiles {
  const sorted = values.sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** The subscriber child, with request/answer over IPC. */
class SubscriberProcess {
  private readonly waiting = new Map<string, (message: ChildMessage) => void>();
  readonly stderr: string[] = [];
  readonly exited: Promise<void>;
  private exitInfo: string | null = null;

  constructor(readonly child: ChildProcess) {
    child.on("message", (message: ChildMessage) => {
      const resolve = this.waiting.get(message.type);
      this.waiting.delete(message.type);
      resolve?.(message);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      if (this.stderr.length < 50) this.stderr.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    });
    child.stdout?.resume();
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitInfo = `exit ${code ?? signal}`;
        resolve();
      }),
    );
  }

  ask<T extends ChildMessage>(message: ParentMessage, answer: T["type"], timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber process: no "${answer}" within ${timeoutMs} ms`)), timeoutMs);
      void this.exited.then(() => reject(new Error(`subscriber process ended (${this.exitInfo}): ${this.stderr.slice(-5).join(" | ")}`)));
      this.waiting.set(answer, (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      this.child.send(message);
    });
  }

  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill("SIGKILL");
    await Promise.race([this.exited, sleep(5000)]);
  }
}

/** Offset of the child's wall clock from ours (child - parent), from the fastest of 20 pings. */
async function clockOffset(sub: SubscriberProcess): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 20; i++) {
    const sent = wallNow();
    const { childMs } = await sub.ask<{ type: "clock"; parentMs: number; childMs: number }>(
      { type: "clock", parentMs: sent },
      "clock",
      5000,
    );
    const back = wallNow();
    if (back - sent < best.rttMs) best = { offsetMs: childMs - (sent + back) / 2, rttMs: back - sent };
  }
  return best;
}

/** Posts one transfer touching each of the accounts (in pairs), so each of their subscribers gets an event. */
async function probe(spec: LiveSpec, accountIndexes: number[]): Promise<void> {
  const touched = [...accountIndexes];
  if (touched.length % 2 === 1) touched.push(touched[0] === 0 ? 1 : 0);
  const pairs: [string, string][] = [];
  for (let i = 0; i < touched.length; i += 2) pairs.push([spec.accounts[touched[i]!]!, spec.accounts[touched[i + 1]!]!]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < pairs.length; i += 100) {
      const transfers = pairs
        .slice(i, i + 100)
        .map(([from, to]) => ({ idempotencyKey: spec.nextKey(), from: { id: from }, to: { id: to }, amount: "1", currency: "USD" }));
      const answer = await postGraphql(
        agent,
        spec.endpoint,
        JSON.stringify({ query: leanDocuments.postTransfers, variables: { input: { atomic: true, transfers } } }),
        spec.requestTimeoutMs,
      );
      if (!answer.text.includes('"allSucceeded":true')) throw new Error(`probe transfers failed: ${answer.text.slice(0, 200)}`);
    }
  } finally {
    agent.destroy();
  }
}

interface WriterRecord {
  from: number;
  to: number;
  sentMs: number;
  doneMs: number;
}

/** The write load, recording each posted transfer's accounts and wall-clock send/answer times. */
async function writeLoad(spec: LiveSpec, label: string, window: { start: () => void; end: () => void }) {
  const records = new Map<string, WriterRecord>();
  const pending: [number, number][] = [];
  let windowStart = Number.NaN;
  let windowEnd = Number.NaN;
  const k = spec.accounts.length;
  const result = await runScenario(
    {
      name: label,
      clients: spec.writers,
      warmupMs: spec.warmupMs,
      measureMs: spec.measureMs,
      transfersPerRequest: 1,
      nextBody: (client) => {
        const i = Math.floor(Math.random() * k);
        let j = Math.floor(Math.random() * (k - 1));
        if (j >= i) j += 1;
        pending[client] = [i, j];
        return spec.transferBody(spec.accounts[i]!, spec.accounts[j]!);
      },
      judge: spec.judge,
      onAnswer: (client, sentMs, doneMs, answer) => {
        const id = answer && answer.status === 200 ? /"transfer":\{"id":"([^"]+)"/.exec(answer.text)?.[1] : undefined;
        const [from, to] = pending[client]!;
        if (id) records.set(id, { from, to, sentMs: performance.timeOrigin + sentMs, doneMs: performance.timeOrigin + doneMs });
      },
      requestTimeoutMs: spec.requestTimeoutMs,
      onWindowStart: () => {
        windowStart = wallNow();
        window.start();
      },
      onWindowEnd: () => {
        windowEnd = wallNow();
        window.end();
      },
      shouldAbort: spec.shouldAbort,
    },
    spec.endpoint,
  );
  return { result, records, windowStart, windowEnd: Number.isNaN(windowEnd) ? wallNow() : windowEnd };
}

function analyse(
  records: Map<string, WriterRecord>,
  collected: Collected,
  watchers: number[],
  offsetMs: number,
  windowStart: number,
  windowEnd: number,
  drainSeconds: number,
): Delivery {
  // Over the whole load: expected .. extra; of transfers answered in the window: events, beforeAnswer.
  const n = { expected: 0, received: 0, missing: 0, extra: 0, events: 0, beforeAnswer: 0, inWindow: 0 };
  const afterAnswer: number[] = [];
  const afterSent: number[] = [];
  for (const [id, r] of records) {
    const times = collected.byTransfer[id] ?? [];
    const want = watchers[r.from]! + watchers[r.to]!;
    n.expected += want;
    n.received += times.length;
    n.missing += Math.max(0, want - times.length);
    n.extra += Math.max(0, times.length - want);
    const counted = r.doneMs >= windowStart && r.doneMs <= windowEnd;
    for (const childTime of times) {
      const at = childTime - offsetMs;
      if (at >= windowStart && at <= windowEnd) n.inWindow += 1;
      if (!counted) continue;
      n.events += 1;
      if (at < r.doneMs) n.beforeAnswer += 1;
      afterAnswer.push(Math.max(0, at - r.doneMs));
      afterSent.push(at - r.sentMs);
    }
  }
  let unknownTransfer = 0;
  for (const [id, times] of Object.entries(collected.byTransfer)) if (!records.has(id)) unknownTransfer += times.length;
  const seconds = (windowEnd - windowStart) / 1000;
  const { inWindow, ...counts } = n;
  return {
    ...counts,
    afterAnswerMs: percentiles(Float64Array.from(afterAnswer)),
    afterSentMs: percentiles(Float64Array.from(afterSent)),
    perSecond: seconds > 0 ? inWindow / seconds : 0,
    duplicates: collected.duplicates,
    gaps: collected.gaps,
    malformed: collected.malformed,
    unknownTransfer,
    drainSeconds,
  };
}

function emptyLevel(label: string, subscribers: number): LiveLevel {
  return {
    label,
    subscribers,
    opened: 0,
    live: 0,
    openSeconds: 0,
    openFailures: {},
    notes: [],
    write: null,
    lossPercent: null,
    delivery: null,
    cpu: null,
    serviceThread: null,
    dbTransactionsPerTransfer: null,
    serviceRssMb: null,
    subscriberRssMbPeak: null,
    serviceFdsAfter: null,
    closedEarly: {},
    errors: {},
    closed: null,
    clock: null,
  };
}

const subscriberScript = fileURLToPath(new URL("./live-subscribers.ts", import.meta.url));

/** Opens `n` subscribers in a child process and proves each live with a probe event. */
async function openSubscribers(
  spec: LiveSpec,
  n: number,
  level: LiveLevel,
): Promise<{ sub: SubscriberProcess; untrack: () => void; liveIndexes: number[] }> {
  const child = fork(subscriberScript, [], { cwd: projectRoot, execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const sub = new SubscriberProcess(child);
  const untrack = track(`subscriber process (pid ${child.pid})`, () => sub.kill());
  const k = spec.accounts.length;
  const accountIds = Array.from({ length: n }, (_, i) => spec.accounts[i % k]!);
  const openTimeoutMs = 60_000 + n * 20;
  const opened = await sub.ask<Opened>(
    { type: "open", port: spec.endpoint.port, key: spec.apiKey, accountIds, batch: spec.openBatch, timeoutMs: 30_000 },
    "opened",
    openTimeoutMs,
  );
  level.opened = opened.ok;
  level.openSeconds = opened.seconds;
  level.openFailures = opened.failures;
  log(
    `  ${opened.ok} of ${n} subscribers connected and subscribed in ${opened.seconds.toFixed(1)} s` +
      (Object.keys(opened.failures).length
        ? `; failures: ${Object.entries(opened.failures)
            .map(([r, c]) => `${r} x${c}`)
            .join("; ")}`
        : ""),
  );
  // A subscription registers asynchronously after its subscribe message: probe its account until
  // an event arrives, so the measured load never starts before every subscription is live.
  let status: Status = await sub.ask<Status>({ type: "status", indexes: true }, "status", 10_000);
  for (let round = 0; round < 6 && status.live < opened.ok; round++) {
    const live = new Set(status.liveIndexes);
    const waiting = new Set<number>();
    for (let i = 0; i < n; i++) if (!live.has(i)) waiting.add(i % k);
    await probe(spec, [...waiting]);
    const until = performance.now() + 2000 + round * 1000;
    do {
      await sleep(100);
      status = await sub.ask<Status>({ type: "status", indexes: true }, "status", 10_000);
    } while (status.live < opened.ok && performance.now() < until);
  }
  level.live = status.live;
  if (status.live < opened.ok)
    level.notes.push(`${opened.ok - status.live} subscribed connections never received a probe event; not counted`);
  return { sub, untrack, liveIndexes: status.liveIndexes ?? [] };
}

async function liveLoad(spec: LiveSpec): Promise<LiveFigures> {
  const k = spec.accounts.length;
  const ownLimit = fdLimit("self");
  const serviceLimit = fdLimit(spec.servicePid);
  const ports = portRange();
  const limits = `ulimit -n (open files): ${ownLimit ?? "?"} for this script and the subscriber process, ${serviceLimit ?? "?"} for the service; ephemeral ports: ${ports ?? "?"}`;
  log(`live: ${limits}`);
  const serviceFdsBefore = openFds(spec.servicePid);
  const plan = windowPlan(spec.levels, spec.firstLevelRepeats ?? 2);
  const levels: LiveLevel[] = [];
  let stopReason: string | null = null;

  for (const { label, n } of plan) {
    const level = emptyLevel(label, n);
    levels.push(level);
    // A subscriber takes one descriptor here and one in the service; ports are one per connection.
    const limit = Math.min(ownLimit ?? Infinity, serviceLimit ?? Infinity);
    if (n > 0 && stopReason) {
      level.notes.push(`not run: ${stopReason}`);
      continue;
    }
    if (n + 256 > limit || (ports !== null && n + 1000 > ports)) {
      level.notes.push(
        `not run: ${n} connections need more than ulimit -n ${limit} descriptors or ${ports} ephemeral ports (less 1,000 kept spare)`,
      );
      log(`  ${label} subscribers: ${level.notes.at(-1)}`);
      continue;
    }
    await spec.betweenWindows?.();
    log(`live, ${label} subscribers, ${spec.writers} writers: ${spec.warmupMs / 1000} s warm-up + ${spec.measureMs / 1000} s`);
    let subscribers: Awaited<ReturnType<typeof openSubscribers>> | null = null;
    let peakRss = 0;
    let peakSubRss = 0;
    const sampleRss = () => {
      peakRss = Math.max(peakRss, rssMb(spec.servicePid) ?? 0);
      if (subscribers?.sub.child.pid) peakSubRss = Math.max(peakSubRss, rssMb(subscribers.sub.child.pid) ?? 0);
    };
    const rssTimer = setInterval(sampleRss, 250);
    try {
      const watchers = new Array<number>(k).fill(0);
      if (n > 0) {
        subscribers = await openSubscribers(spec, n, level);
        for (const i of subscribers.liveIndexes) watchers[i % k]! += 1;
        if (n - level.live > 0.01 * n) stopReason = `only ${level.live} of ${n} subscribers were live at the previous level`;
        level.clock = await clockOffset(subscribers.sub);
        await subscribers.sub.ask<Status>({ type: "reset" }, "status", 10_000);
      }
      // pg_stat_database is flushed by each backend about once a second.
      let transactionsBefore: number | null = null;
      if (spec.dbTransactions) {
        await sleep(1100);
        transactionsBefore = await spec.dbTransactions();
      }
      const subscriberPid = subscribers?.sub.child.pid ?? -1;
      const classify: Classify = (pid, comm) => (pid === subscriberPid ? "subscribers" : spec.classify(pid, comm));
      let before: CpuSnapshot | null = null;
      let schedBefore: ThreadSchedstat | null = null;
      let serviceRssEnd = 0;
      const load = await writeLoad(spec, `live, ${label} subscribers`, {
        start: () => {
          before = cpuSnapshot(classify);
          schedBefore = mainThreadSchedstat(spec.servicePid);
        },
        end: () => {
          if (before) level.cpu = cpuUsage(before, cpuSnapshot(classify));
          level.serviceThread = schedShares(schedBefore, mainThreadSchedstat(spec.servicePid));
          serviceRssEnd = rssMb(spec.servicePid) ?? 0;
        },
      });
      level.write = load.result;
      if (load.result.aborted) throw new Error(`live, ${label} subscribers: ${load.result.aborted}`);
      if (subscribers) {
        // Drain: wait until every expected event arrived, or none has for 3 s.
        let expected = 0;
        for (const r of load.records.values()) expected += watchers[r.from]! + watchers[r.to]!;
        const drainStart = performance.now();
        let last = -1;
        let lastChange = drainStart;
        for (;;) {
          const { events } = await subscribers.sub.ask<Status>({ type: "status" }, "status", 10_000);
          if (events !== last) {
            last = events;
            lastChange = performance.now();
          }
          if (events >= expected || performance.now() - lastChange > 3000 || performance.now() - drainStart > 30_000) break;
          await sleep(100);
        }
        const drainSeconds = (performance.now() - drainStart) / 1000;
        const collected = await subscribers.sub.ask<Collected>({ type: "collect" }, "collected", 60_000);
        level.delivery = analyse(load.records, collected, watchers, level.clock!.offsetMs, load.windowStart, load.windowEnd, drainSeconds);
        level.closedEarly = collected.closedEarly;
        level.errors = collected.errors;
      }
      if (transactionsBefore !== null && spec.dbTransactions && load.records.size > 0) {
        await sleep(1100);
        level.dbTransactionsPerTransfer = ((await spec.dbTransactions()) - transactionsBefore) / load.records.size;
      }
      sampleRss();
      level.serviceRssMb = { peak: peakRss, end: serviceRssEnd };
      level.subscriberRssMbPeak = subscribers ? peakSubRss : null;
    } finally {
      clearInterval(rssTimer);
      if (subscribers) {
        const closeTimeoutMs = 10_000;
        level.closed = await subscribers.sub
          .ask<Closed>({ type: "close", timeoutMs: closeTimeoutMs }, "closed", closeTimeoutMs + 30_000)
          .catch(() => null);
        await Promise.race([subscribers.sub.exited, sleep(10_000)]);
        await subscribers.sub.kill();
        subscribers.untrack();
      }
    }
    await sleep(1000); // lets the service notice the closes
    level.serviceFdsAfter = openFds(spec.servicePid);
    logLevel(level);
  }
  for (const level of levels) level.lossPercent = lossAgainstNeighbours(levels, level);
  for (const level of levels)
    if (level.lossPercent !== null)
      log(`  ${level.label} subscribers: ${level.lossPercent.toFixed(1)} % lost vs the 0-subscriber windows around it`);
  return { levels, writers: spec.writers, accounts: k, openBatch: spec.openBatch, limits, serviceFdsBefore, serviceStderrLines: [] };
}

/**
 * The windows in order: 0 subscribers first, then each level followed by another 0 window, the
 * first level `repeats` times (its loss is the goal: paired windows average out drift).
 */
function windowPlan(subscriberLevels: number[], repeats: number): { label: string; n: number }[] {
  const plan = [{ label: "0", n: 0 }];
  subscriberLevels.forEach((n, index) => {
    const times = index === 0 ? repeats : 1;
    for (let i = 1; i <= times; i++) {
      plan.push({ label: `${fmt(n)}${times > 1 ? ` (window ${i})` : ""}`, n }, { label: "0", n: 0 });
    }
  });
  return plan;
}

/** The 0-subscriber windows just before and after `level` that ran. */
const neighbourBaselines = (levels: LiveLevel[], level: LiveLevel) =>
  baselinesAround(levels, level, (l) => l.subscribers === 0 && l.write !== null);

function lossAgainstNeighbours(levels: LiveLevel[], level: LiveLevel): number | null {
  if (level.subscribers === 0 || !level.write) return null;
  const baselines = neighbourBaselines(levels, level);
  if (baselines.length === 0) return null;
  const baseline = mean(baselines.map((l) => l.write!.transfersPerSecond));
  return 100 * (1 - level.write.transfersPerSecond / baseline);
}

function logLevel(l: LiveLevel): void {
  const w = l.write!;
  const d = l.delivery;
  const c = l.cpu?.percentByGroup;
  log(
    `  ${f(w.transfersPerSecond)} transfers/s${l.lossPercent !== null ? ` (${f(l.lossPercent, 1)} % lost vs baseline)` : ""}, p50 ${f(w.p50Ms, 1)} ms, p99 ${f(w.p99Ms, 1)} ms, errors ${w.failureCount}` +
      (c
        ? `; CPU service ${f(c.service ?? 0)}%, postgres ${f(c.postgres ?? 0)}%, writers ${f(c.loadgen ?? 0)}%, subscribers ${f(c.subscribers ?? 0)}%, machine ${f(l.cpu!.machineBusyPercent ?? NaN)}%`
        : ""),
  );
  if (d) {
    log(
      `  delivery after the answer p50 ${f(d.afterAnswerMs.p50, 1)} ms, p99 ${f(d.afterAnswerMs.p99, 1)} ms; after sending p50 ${f(d.afterSentMs.p50, 1)} ms, p99 ${f(d.afterSentMs.p99, 1)} ms; ` +
        `${f(d.perSecond)} events/s; received ${d.received} of ${d.expected} expected (missing ${d.missing}, extra ${d.extra}), duplicates ${d.duplicates}, gaps ${d.gaps}, ` +
        `before the answer ${d.beforeAnswer}, unknown transfers ${d.unknownTransfer}; drained in ${f(d.drainSeconds, 1)} s; clock offset ${f(l.clock!.offsetMs, 2)} ms (rtt ${f(l.clock!.rttMs, 2)} ms)`,
    );
  }
  log(
    `  ${l.dbTransactionsPerTransfer === null ? "" : `database transactions per transfer ${f(l.dbTransactionsPerTransfer, 1)}; `}service RSS peak ${f(l.serviceRssMb?.peak ?? NaN)} MB, open fds after ${l.serviceFdsAfter ?? "?"}` +
      (l.closed ? `; subscribers closed ${l.closed.clean} cleanly, ${l.closed.forced} terminated` : "") +
      (Object.keys(l.closedEarly).length ? `; closed early: ${JSON.stringify(l.closedEarly)}` : "") +
      (Object.keys(l.errors).length ? `; errors: ${JSON.stringify(l.errors)}` : ""),
  );
}

/** Bound on the group's run, for the watchdog: per level the load, opening (a few ms per subscriber), probing, draining and closing. */
export const expectedSeconds = (s: Settings) =>
  (s.liveSubscribers.length + 2) * (s.seconds + s.warmupSeconds + 45) + s.liveSubscribers.reduce((a, n) => a + n / 200, 0);

/** The windows with and without subscribers on the shared accounts, each after VACUUM ANALYZE and a CHECKPOINT. */
export async function run(bench: Bench): Promise<LiveFigures> {
  const { service, endpoint, statsClient, workload } = bench;
  const { seconds, warmupSeconds, liveSubscribers, liveWriters } = bench.settings;
  const stderrBefore = service.stderrLines.length;
  const figures = await liveLoad({
    levels: liveSubscribers,
    writers: liveWriters,
    warmupMs: warmupSeconds * 1000,
    measureMs: seconds * 1000,
    requestTimeoutMs,
    accounts: workload.accounts,
    endpoint,
    apiKey: endpoint.authorization.replace(/^Bearer /, ""),
    transferBody: workload.transferBody,
    judge: judgeSingle,
    nextKey: workload.nextKey,
    servicePid: service.child.pid ?? -1,
    classify: bench.processes.classify,
    openBatch: 200,
    shouldAbort: service.exited,
    dbTransactions: () => databaseTransactions(statsClient, "ledger_bench"),
    betweenWindows: () => settleTables(statsClient, ["accounts", "transfers", "entries", "idempotency_keys"]),
  });
  figures.serviceStderrLines = service.stderrLines.slice(stderrBefore);
  return figures;
}

export function print(f: LiveFigures, { seconds, warmupSeconds }: Settings): void {
  const t = tables(f);
  console.log(
    `\nLive subscriptions: postTransfer load, ${f.writers} writers, uniform pairs of ${fmt(f.accounts)} accounts (${seconds} s windows after ${warmupSeconds} s warm-up)\n`,
  );
  console.log(textTable(t.results));
  console.log(`\nResources during each window (CPU: percent of one core; the machine has ${os.availableParallelism()} cores)\n`);
  console.log(textTable(t.resources));
  for (const note of t.notes) console.log(`  ${note}`);
  console.log(`Goal: ${plain(goal(f.levels)?.text ?? "not measured (needs a run with 1,000 subscribers)")}`);
}

/** Write errors and events missing, repeated, out of order or malformed (there should be none). */
export const errors = (f: LiveFigures) =>
  f.levels.reduce(
    (sum, l) =>
      sum +
      (l.write?.failureCount ?? 0) +
      (l.delivery ? l.delivery.missing + l.delivery.duplicates + l.delivery.gaps + l.delivery.malformed : 0),
    0,
  );

const pair = (a: number, b: number, digits: number) => `${fmt(a, digits)} / ${fmt(b, digits)}`;
const cpuOf = (l: LiveLevel, group: string) => (l.cpu ? `${fmt(l.cpu.percentByGroup[group] ?? 0)}%` : "n/a");
const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([label, n]) => `${label} x${n}`)
    .join("; ");

/** The results and resources tables of the live group, and per-level notes. */
function tables(f: LiveFigures): { results: Table; resources: Table; notes: string[] } {
  const ran = f.levels.filter((l) => l.write);
  const notes: string[] = [];
  for (const l of f.levels) {
    const d = l.delivery;
    const parts = [
      ...l.notes,
      l.subscribers > 0 && l.write
        ? `${fmt(l.opened)} connections subscribed in ${fmt(l.openSeconds, 1)} s (${fmt(f.openBatch)} at a time), ${fmt(l.live)} proven live by a probe event`
        : "",
      Object.keys(l.openFailures).length ? `connection failures: ${counts(l.openFailures)}` : "",
      d?.beforeAnswer
        ? `${fmt(d.beforeAnswer)} of ${fmt(d.events)} events arrived before the writer had the HTTP answer (counted as 0 ms after it)`
        : "",
      d ? `events drained ${fmt(d.drainSeconds, 1)} s after the load` : "",
      d && (d.extra || d.unknownTransfer || d.gaps || d.malformed)
        ? `extra ${fmt(d.extra)}, of unknown transfers ${fmt(d.unknownTransfer)}, version gaps ${fmt(d.gaps)}, malformed ${fmt(d.malformed)}`
        : "",
      Object.keys(l.closedEarly).length ? `closed by the server during the run: ${counts(l.closedEarly)}` : "",
      Object.keys(l.errors).length ? `subscription errors: ${counts(l.errors)}` : "",
      l.closed?.forced ? `${fmt(l.closed.forced)} connections did not finish their close handshake within 10 s (terminated)` : "",
      l.write?.failureCount ? `write errors: ${counts(Object.fromEntries(l.write.failures))}` : "",
      l.clock ? `clock offset to the subscriber process ${fmt(l.clock.offsetMs, 2)} ms (fastest IPC ping ${fmt(l.clock.rttMs, 2)} ms)` : "",
    ].filter(Boolean);
    if (parts.length) notes.push(`${l.label} subscribers: ${parts.join("; ")}.`);
  }
  return {
    results: {
      headers: [
        "subscribers",
        "live",
        "transfers/s",
        "lost vs none",
        "write p50 / p99 ms",
        "delivery p50 / p99 ms after the answer",
        "after the request was sent",
        "events/s",
        "events received / expected",
        "missing",
        "duplicates",
      ],
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
      headers: [
        "subscribers",
        "service",
        "PostgreSQL",
        "writers (this script)",
        "subscriber process",
        "other processes",
        "machine busy",
        "service thread waiting for a CPU",
        "PG transactions / transfer",
        "service RSS MB: peak / end of window",
        "subscriber process RSS MB",
        "service fds after closing",
      ],
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
function goal(levels: LiveLevel[]): { met: boolean; text: string } | null {
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

export function section(f: LiveFigures, stamp: RunStamp, { seconds, warmupSeconds }: Settings): string {
  const t = tables(f);
  const verdict = goal(f.levels);
  const stderr = f.serviceStderrLines;
  return marked(
    "live",
    `## Live subscriptions under write load

${stampLines(stamp)}

${markdownTable(t.results)}

${verdict ? `Goal: ${verdict.text}` : "Goal: not measured (needs a run with 1,000 subscribers)."}

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
  (\`bench/scenarios/live-subscribers.ts\`), opened ${fmt(f.openBatch)} at a time before the load. Subscriber i watches
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
