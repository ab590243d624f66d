// The "webhooks" scenario group and its section of docs/benchmarks.md: what webhooks cost the
// write path, and what the other design would have cost.
//
// The live group's postTransfer load (BENCH_LIVE_WRITERS closed-loop clients, uniform random
// pairs of the shared accounts) runs in windows, each after VACUUM ANALYZE and a CHECKPOINT:
//   none      no enabled endpoint (none created yet, or it is disabled): the service's webhook
//             worker runs as always, its materializer only moving its stored position;
//   endpoint  one endpoint of the tenant subscribed to every event type, its URL a receiver in
//             this process on 127.0.0.1 that answers 200 at once (the design built: events and
//             deliveries made after commit from the change feed's reading, with a persisted
//             position, then POSTed by the dispatcher);
//   held      the same endpoint, its circuit breaker held open by this script for the window: events
//             and deliveries are made as they commit, but nothing is sent until the load ends (the
//             endpoint's cost split: making events beside the writes, without sending them);
//   apart     the endpoint as in "endpoint", but the load goes to a second service process on the same
//             database started with LEDGER_WEBHOOKS=false: the webhook worker runs only in the first
//             (which then takes no writes and finds their commits by its poll), as a deployment
//             that gives webhooks their own process would run;
//   posts     no endpoint, but a child process of this script POSTs a signed body of an event's size
//             to the receiver for every transfer answered (16 at a time, kept-alive): the HTTP
//             exchange alone, what one request per event costs this machine whoever sends it;
//   outbox    no endpoint, but an AFTER INSERT trigger on transfers writing one row (transfer id,
//             tenant, the row as jsonb) into a scratch table inside each write transaction: the
//             other design's cost inside the write, made and dropped around the window.
// Order: none, then per round endpoint, none, apart, none, held, none, posts, none, outbox, none; each other window is
// weighed against the mean of the none windows just before and after it (paired windows average
// out the drift of a noisy machine and of growing tables). Ratios only, never timed assertions.
//
// After an endpoint (or held) window's load the group waits until the receiver has every event of it (and
// the database no pending delivery), then disables the endpoint: nothing of one window is
// delivered in the next. The lag is from the last write's answer to the last event's arrival.
import http from "node:http";
import os from "node:os";
import type { Bench, Settings } from "../lib/context.js";
import { marked, stampLines, type RunStamp } from "../lib/docs.js";
import { fmt, markdownTable, pct, plain, textTable, type Table } from "../lib/format.js";
import { log, sleep, track } from "../lib/lifecycle.js";
import { startPoster } from "../lib/poster.js";
import { measureClaimScale, type ClaimScale } from "../lib/claim-scale.js";
import { measureSenderCost, type SenderCost } from "../lib/sender-cost.js";
import { startService, type RunningService } from "../lib/service.js";
import { logFailures, parseAnswer, postGraphql, requestTimeoutMs, runScenario, type Endpoint, type ScenarioResult } from "../lib/load.js";
import {
  databaseTransactions,
  describeWaits,
  settleTables,
  walByRelation,
  walBytesSince,
  walPosition,
  windowSampler,
  type WindowSample,
} from "../lib/sampling.js";
import { baselinesAround, mean } from "../lib/stats.js";
import { judgeSingle } from "../lib/workload.js";

type Kind = "none" | "endpoint" | "apart" | "held" | "posts" | "outbox";

/** The goal of the issue: one endpoint subscribed to everything costs at most this much write throughput. */
const goalPercent = 10;
/** How long the wait for an endpoint window's events may take, and how long it may see no progress. */
const drainMaxMs = 300_000;
const drainStallMs = 20_000;

const eventTypes = ["TRANSFER_POSTED", "HOLD_CREATED", "HOLD_CAPTURED", "HOLD_VOIDED", "HOLD_EXPIRED", "ACCOUNT_CREATED"];

const settledTables = [
  "accounts",
  "transfers",
  "entries",
  "idempotency_keys",
  "webhook_events",
  "webhook_deliveries",
  "webhook_endpoints",
  "webhook_feed_position",
];

export interface Delivery {
  /** Transfers posted by the load (warm-up included): the transfer.posted events expected. */
  expected: number;
  /** Distinct transfer.posted events received, and of other types (expiring holds of earlier groups). */
  received: number;
  otherEvents: number;
  /** POSTs received (more than distinct events: a delivery sent again). */
  requests: number;
  /** Distinct events received inside the measurement window, per second. */
  perSecond: number;
  /** When the load's last request was answered: deliveries made and events received so far. */
  madeAtEnd: number;
  receivedAtEnd: number;
  /** From the last write's answer until every delivery row was made (polled every 100 ms) / every event was received; null: never. */
  madeLagMs: number | null;
  lagMs: number | null;
  /** Distinct events received after the load ended, per second until the last one (the dispatcher with no writes beside it). */
  afterLoadPerSecond: number | null;
  drained: boolean;
  /** Deliveries of this window left PENDING or FAILED when the wait ended. */
  undelivered: number;
  /** The dispatcher's HTTP attempts of this window (webhook_deliveries.attempts[].duration_ms: connect, POST, answer). */
  attempts: number;
  attemptP50Ms: number | null;
  attemptP99Ms: number | null;
  /** The ledger database's busy sessions while the group waited for the events, by statement and wait (mean sessions, every 100 ms). */
  waitSessions: Record<string, number>;
}

export interface WebhookWindow {
  label: string;
  kind: Kind;
  round: number;
  write: ScenarioResult;
  sample: WindowSample;
  /** Write throughput lost against the none windows just before and after, percent (negative: gained); null for none. */
  costPercent: number | null;
  delivery: Delivery | null;
  /** Rows the outbox trigger wrote (one per transfer posted, warm-up included). */
  outboxRows: number | null;
  /** Requests the poster had answered (one per transfer answered, warm-up included). */
  posts: number | null;
  /** From before the load until its events were delivered (endpoint) or it ended (others), per transfer posted. */
  dbTransactionsPerTransfer: number | null;
  walBytesPerTransfer: number | null;
  /** The relations that took most of the window's WAL, per transfer posted. */
  walByRelation: { relation: string; bytes: number; fpiBytes: number }[];
  /** CPU of the service and PostgreSQL inside the window, ms per transfer posted in it. */
  cpuMsPerTransfer: number | null;
}

export interface WebhookFigures {
  windows: WebhookWindow[];
  writers: number;
  accounts: number;
  rounds: number;
  seconds: number;
  serviceStderrLines: string[];
  /** One attempt's CPU in a process of its own, before the windows (bench/lib/sender-cost.ts). */
  senderCost: SenderCost;
  /** A claim's time with one busy endpoint alone and among idle ones (bench/lib/claim-scale.ts). */
  claimScale: ClaimScale;
}

// ------------------------------------------------------------------ the receiver

/** An HTTP server on 127.0.0.1 that answers every POST 200 at once and counts what it got. */
async function startReceiver() {
  let requests = 0;
  let seen = new Set<string>();
  /** performance.now() at which each distinct transfer.posted event first arrived, in order. */
  let transferTimes: number[] = [];
  let other = 0;
  const server = http.createServer((request, response) => {
    const at = performance.now();
    requests += 1;
    const id = String(request.headers["ledger-event-id"] ?? "");
    if (!seen.has(id)) {
      seen.add(id);
      if (request.headers["ledger-event-type"] === "transfer.posted") transferTimes.push(at);
      else other += 1;
    }
    request.resume();
    request.on("end", () => response.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const untrack = track(`webhook receiver (port ${port})`, close);
  return {
    url: `http://127.0.0.1:${port}/bench-hooks`,
    reset() {
      requests = 0;
      seen = new Set();
      transferTimes = [];
      other = 0;
    },
    counts: () => ({ requests, transfers: transferTimes.length, other }),
    transferTimes: () => transferTimes,
    async close() {
      untrack();
      await close();
    },
  };
}

// ------------------------------------------------------------------ the endpoint, through the API

const problem = "... on Problem { code message }";
const mutations = {
  create: `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointCreated { endpoint { id } secret } ${problem} } }`,
  enable: `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointUpdated { endpoint { id status } } ${problem} } }`,
  disable: `mutation($id: ID!) { disableWebhookEndpoint(id: $id) {
    __typename ... on WebhookEndpointUpdated { endpoint { id status } } ${problem} } }`,
};

/** One mutation of the endpoint API with the tenant's API key; its result, which must be `success`. */
async function callApi(
  endpoint: Endpoint,
  query: string,
  variables: Record<string, unknown>,
  field: string,
  success: string,
): Promise<Record<string, any>> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const answer = await postGraphql(agent, endpoint, JSON.stringify({ query, variables }), requestTimeoutMs);
    const { json, failures } = parseAnswer(answer);
    const result = json?.data?.[field] as Record<string, any> | undefined;
    if (result?.__typename !== success) throw new Error(`${field}: ${failures.join("; ") || JSON.stringify(result)}`);
    return result;
  } finally {
    agent.destroy();
  }
}

// ------------------------------------------------------------------ the outbox

const outboxSql = {
  create: `CREATE TABLE bench_outbox (id bigserial PRIMARY KEY, transfer_id uuid NOT NULL, tenant_id uuid NOT NULL,
             payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
           CREATE FUNCTION bench_outbox_write() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             INSERT INTO bench_outbox (transfer_id, tenant_id, payload) VALUES (NEW.id, NEW.tenant_id, to_jsonb(NEW));
             RETURN NULL;
           END $$;
           CREATE TRIGGER bench_outbox AFTER INSERT ON transfers FOR EACH ROW EXECUTE FUNCTION bench_outbox_write();`,
  drop: `DROP TRIGGER IF EXISTS bench_outbox ON transfers; DROP FUNCTION IF EXISTS bench_outbox_write(); DROP TABLE IF EXISTS bench_outbox`,
};

// ------------------------------------------------------------------ the windows

/** none, then per round: endpoint, none, apart, none, held, none, posts, none, outbox, none (only the kinds asked for). */
function windowPlan(rounds: number, kinds: readonly string[]): { label: string; kind: Kind; round: number }[] {
  const plan: { label: string; kind: Kind; round: number }[] = [{ label: "no endpoint", kind: "none", round: 0 }];
  for (let round = 1; round <= rounds; round++) {
    plan.push(
      { label: `endpoint, round ${round}`, kind: "endpoint", round },
      { label: "no endpoint", kind: "none", round },
      { label: `worker apart, round ${round}`, kind: "apart", round },
      { label: "no endpoint", kind: "none", round },
      { label: `sending held, round ${round}`, kind: "held", round },
      { label: "no endpoint", kind: "none", round },
      { label: `HTTP posts only, round ${round}`, kind: "posts", round },
      { label: "no endpoint", kind: "none", round },
      { label: `outbox row, round ${round}`, kind: "outbox", round },
      { label: "no endpoint", kind: "none", round },
    );
  }
  return plan.filter((step, i) => (step.kind === "none" ? i === 0 || kinds.includes(plan[i - 1]!.kind) : kinds.includes(step.kind)));
}

/** The none windows just before and after `window`. */
const neighbours = (windows: WebhookWindow[], window: WebhookWindow) => baselinesAround(windows, window, (w) => w.kind === "none");

const tps = (windows: WebhookWindow[]) => mean(windows.map((w) => w.write.transfersPerSecond));

/** Expected bound of the group's run, for the watchdog: each window's load, settling and statistics pauses, and the endpoint windows' waits. */
export const expectedSeconds = (s: Settings) =>
  (1 + 2 * s.webhookKinds.length * s.webhookRounds) * (s.seconds + s.warmupSeconds + 15) + 2 * s.webhookRounds * (drainMaxMs / 1000);

export async function run(bench: Bench): Promise<WebhookFigures> {
  const { service, endpoint, statsClient, workload, settings } = bench;
  const { seconds, warmupSeconds, liveWriters: writers, webhookRounds: rounds } = settings;
  const stderrBefore = service.stderrLines.length;
  const receiver = await startReceiver();
  const dropOutbox = () => statsClient.query(outboxSql.drop).then(() => {});
  const untrackOutbox = track("bench_outbox trigger in ledger_bench", dropOutbox);
  let hook: { id: string; uuid: string; enabled: boolean } | null = null;
  /** The endpoint's breaker held open (nothing is claimed for it), or let go (closed, as after a success). */
  const holdSending = async (held: boolean) => {
    await statsClient.query(
      held
        ? "UPDATE webhook_endpoints SET breaker_open_until = 'infinity' WHERE id = $1"
        : "UPDATE webhook_endpoints SET breaker_open_until = NULL, consecutive_failures = 0 WHERE id = $1",
      [hook!.uuid],
    );
  };
  const windows: WebhookWindow[] = [];
  /** The second service process of the "apart" windows, started for the first of them. */
  let apart: RunningService | null = null;
  log("webhooks: the sender's CPU per attempt, in a process of its own");
  const senderCost = await measureSenderCost();
  log(`  sender ${fmt(senderCost.senderUs)} µs, node:http ${fmt(senderCost.nodeHttpUs)} µs per request`);
  log("webhooks: a claim with one busy endpoint alone and among idle ones, in scratch databases");
  const claimScale = await measureClaimScale(bench.adminUrl, bench.runTag);
  log(
    `  ${fmt(claimScale.aloneMs, 2)} ms alone, ${fmt(claimScale.amongIdleMs, 2)} ms among ${fmt(claimScale.idleEndpoints)} idle endpoints`,
  );
  log(`webhooks: receiver at ${receiver.url}; ${rounds} rounds, ${writers} writers`);
  try {
    for (const step of windowPlan(rounds, settings.webhookKinds)) {
      // ---- before the load: the endpoint on (made the first time) or off, the outbox made
      const hooked = step.kind === "endpoint" || step.kind === "apart" || step.kind === "held";
      if (step.kind === "apart" && !apart) {
        apart = await startService(bench.ledgerUrl, null, "1", { LEDGER_WEBHOOKS: "false" });
        log(`webhooks: a second service without the webhook worker (LEDGER_WEBHOOKS=false), pid ${apart.child.pid}, port ${apart.port}`);
      }
      const loadEndpoint = step.kind === "apart" ? { ...endpoint, port: apart!.port } : endpoint;
      if (hooked) {
        if (!hook) {
          const created = await callApi(
            endpoint,
            mutations.create,
            { input: { url: receiver.url, eventTypes, description: "npm run bench" } },
            "createWebhookEndpoint",
            "WebhookEndpointCreated",
          );
          const { rows } = await statsClient.query<{ id: string }>("SELECT id::text FROM webhook_endpoints WHERE url = $1", [receiver.url]);
          hook = { id: created.endpoint.id, uuid: rows[0]!.id, enabled: true };
        } else {
          await callApi(
            endpoint,
            mutations.enable,
            { input: { id: hook.id, enabled: true } },
            "updateWebhookEndpoint",
            "WebhookEndpointUpdated",
          );
          hook.enabled = true;
        }
      }
      if (step.kind === "held") await holdSending(true);
      if (step.kind === "outbox") await statsClient.query(outboxSql.create);
      const poster = step.kind === "posts" ? await startPoster(receiver.url) : null;
      await settleTables(statsClient, step.kind === "outbox" ? [...settledTables, "bench_outbox"] : settledTables);
      const seqBefore =
        hook && hooked
          ? Number((await statsClient.query<{ s: string }>("SELECT coalesce(max(seq), 0)::text AS s FROM webhook_deliveries")).rows[0]!.s)
          : 0;
      receiver.reset();
      await sleep(1100); // pg_stat_database is flushed by each backend about once a second
      const transactionsBefore = await databaseTransactions(statsClient, "ledger_bench");
      const walBefore = await walPosition(statsClient);

      // ---- the load
      log(`webhooks, ${step.label}: ${writers} writers, ${warmupSeconds} s warm-up + ${seconds} s`);
      const sampler = windowSampler(bench.processes.classify, statsClient, "ledger_bench");
      let windowStart = Number.NaN;
      let windowEnd = Number.NaN;
      let lastAnswer = 0;
      const write = await runScenario(
        {
          name: `webhooks, ${step.label}`,
          clients: writers,
          warmupMs: warmupSeconds * 1000,
          measureMs: seconds * 1000,
          transfersPerRequest: 1,
          nextBody: () => workload.transferBody(...workload.randomPair()),
          judge: judgeSingle,
          requestTimeoutMs,
          onAnswer: (_client, _sent, done) => {
            lastAnswer = Math.max(lastAnswer, done);
            poster?.add(1);
          },
          onWindowStart: () => {
            windowStart = performance.now();
            sampler.start();
          },
          onWindowEnd: () => {
            windowEnd = performance.now();
            sampler.end();
          },
          shouldAbort: () => service.exited() ?? apart?.exited() ?? null,
        },
        loadEndpoint,
      );
      const sample = await sampler.result();
      const posts = poster ? await poster.stop() : null;
      logFailures(write.failures);
      if (write.aborted) throw new Error(`webhooks, ${step.label}: ${write.aborted}`);

      // ---- after it: every event delivered (endpoint), the outbox counted and dropped
      let delivery: Delivery | null = null;
      if (hooked && hook) {
        if (step.kind === "held") await holdSending(false);
        delivery = await drain(bench, hook.uuid, seqBefore, receiver, write, { windowStart, windowEnd, lastAnswer });
        await callApi(endpoint, mutations.disable, { id: hook.id }, "disableWebhookEndpoint", "WebhookEndpointUpdated");
        hook.enabled = false;
      }
      let outboxRows: number | null = null;
      if (step.kind === "outbox") {
        outboxRows = Number((await statsClient.query<{ n: string }>("SELECT count(*)::text AS n FROM bench_outbox")).rows[0]!.n);
        await dropOutbox();
      }
      const walBytes = await walBytesSince(statsClient, walBefore);
      const walRelations = await walByRelation(statsClient, walBefore, await walPosition(statsClient), 14);
      await sleep(1100);
      const transactions = (await databaseTransactions(statsClient, "ledger_bench")) - transactionsBefore;
      const perTransfer = (n: number) => (write.allPosted > 0 ? n / write.allPosted : null);
      const window: WebhookWindow = {
        ...step,
        write,
        sample,
        costPercent: null,
        delivery,
        outboxRows,
        posts,
        dbTransactionsPerTransfer: perTransfer(transactions),
        walBytesPerTransfer: perTransfer(walBytes),
        walByRelation: walRelations.map((r) => ({
          relation: r.relation,
          bytes: perTransfer(r.bytes) ?? 0,
          fpiBytes: perTransfer(r.fpiBytes) ?? 0,
        })),
        cpuMsPerTransfer: ledgerCpuMsPerTransfer(sample, write),
      };
      windows.push(window);
      logWindow(window);
    }
  } finally {
    untrackOutbox();
    await apart?.stop();
    await dropOutbox().catch(() => {});
    if (hook) await holdSending(false).catch(() => {});
    if (hook?.enabled)
      await callApi(endpoint, mutations.disable, { id: hook.id }, "disableWebhookEndpoint", "WebhookEndpointUpdated").catch(() => {});
    await receiver.close();
  }
  for (const w of windows) {
    if (w.kind === "none") continue;
    const around = neighbours(windows, w);
    if (around.length > 0) w.costPercent = 100 * (1 - w.write.transfersPerSecond / tps(around));
    log(`  ${w.label}: ${fmt(w.costPercent ?? Number.NaN, 1)} % of write throughput lost vs the no-endpoint windows around it`);
  }
  return {
    windows,
    writers,
    accounts: workload.accounts.length,
    rounds,
    seconds,
    serviceStderrLines: service.stderrLines.slice(stderrBefore),
    senderCost,
    claimScale,
  };
}

/**
 * Waits until the receiver has every transfer.posted event of the load and no delivery of it is
 * left pending (or nothing arrives for drainStallMs, or drainMaxMs passes), polling every 100 ms.
 */
async function drain(
  bench: Bench,
  endpointUuid: string,
  seqBefore: number,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  write: ScenarioResult,
  times: { windowStart: number; windowEnd: number; lastAnswer: number },
): Promise<Delivery> {
  const expected = write.allPosted;
  const deliveries = async () => {
    const { rows } = await bench.statsClient.query<{ made: string; open: string }>(
      `SELECT count(*)::text AS made, count(*) FILTER (WHERE status <> 'DELIVERED')::text AS open
         FROM webhook_deliveries WHERE endpoint_id = $1 AND seq > $2`,
      [endpointUuid, seqBefore],
    );
    return { made: Number(rows[0]!.made), open: Number(rows[0]!.open) };
  };
  const loadEnded = performance.now();
  const receivedAtEnd = receiver.counts().transfers;
  const atEnd = await deliveries();
  let madeAt: number | null = atEnd.made >= expected ? performance.now() : null;
  let last = { ...atEnd, received: receivedAtEnd };
  let lastProgress = performance.now();
  const started = performance.now();
  let drained = false;
  const sessions: Record<string, number> = {};
  let samples = 0;
  for (;;) {
    const counts = receiver.counts();
    const now = await deliveries();
    samples += 1;
    for (const label of await busySessions(bench)) sessions[label] = (sessions[label] ?? 0) + 1;
    if (madeAt === null && now.made >= expected) madeAt = performance.now();
    if (counts.transfers >= expected && now.open === 0) {
      drained = true;
      break;
    }
    if (counts.transfers !== last.received || now.made !== last.made) lastProgress = performance.now();
    last = { ...now, received: counts.transfers };
    if (performance.now() - lastProgress > drainStallMs || performance.now() - started > drainMaxMs) break;
    await sleep(100);
  }
  const counts = receiver.counts();
  const arrivals = receiver.transferTimes();
  const inWindow = arrivals.filter((t) => t >= times.windowStart && t <= times.windowEnd).length;
  const windowSeconds = (times.windowEnd - times.windowStart) / 1000;
  const final = await deliveries();
  const { rows: attempts } = await bench.statsClient.query<{ n: number; p50: number | null; p99: number | null }>(
    `SELECT count(*)::int AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY a.duration_ms) AS p99
       FROM webhook_deliveries d, jsonb_to_recordset(d.attempts) AS a(duration_ms int) WHERE d.endpoint_id = $1 AND d.seq > $2`,
    [endpointUuid, seqBefore],
  );
  const lastArrival = arrivals.at(-1);
  const afterLoad = counts.transfers - receivedAtEnd;
  return {
    expected,
    received: counts.transfers,
    otherEvents: counts.other,
    requests: counts.requests,
    perSecond: windowSeconds > 0 ? inWindow / windowSeconds : 0,
    madeAtEnd: atEnd.made,
    receivedAtEnd,
    madeLagMs: madeAt === null ? null : Math.max(0, madeAt - times.lastAnswer),
    lagMs: drained && arrivals.length > 0 ? Math.max(0, arrivals.at(-1)! - times.lastAnswer) : null,
    afterLoadPerSecond:
      lastArrival !== undefined && lastArrival > loadEnded && afterLoad > 0 ? afterLoad / ((lastArrival - loadEnded) / 1000) : null,
    drained,
    undelivered: final.open,
    attempts: attempts[0]!.n,
    attemptP50Ms: attempts[0]!.p50,
    attemptP99Ms: attempts[0]!.p99,
    waitSessions: Object.fromEntries(Object.entries(sessions).map(([label, n]) => [label, n / Math.max(1, samples)])),
  };
}

function ledgerCpuMsPerTransfer({ cpu }: WindowSample, write: ScenarioResult): number | null {
  if (!cpu || write.transfersPosted === 0) return null;
  const coreSeconds = ((cpu.percentByGroup.service ?? 0) + (cpu.percentByGroup.postgres ?? 0)) / 100;
  return (1000 * coreSeconds * cpu.seconds) / write.transfersPosted;
}

/** What a session's statement is, in the webhook worker's terms (src/webhooks/dispatcher.ts, materializer.ts). */
function statementOf(query: string, application: string): string {
  if (application === "ledger-webhooks") return "materializer";
  if (query.includes("ledger_webhook_cycle")) return "record and claim";
  const word = /^\s*(\w+)/.exec(query)?.[1]?.toUpperCase() ?? "?";
  return word === "COMMIT" || word === "BEGIN" || word === "SELECT" ? word : "other";
}

/** The ledger database's sessions that are not idle, each as "statement (wait)". */
async function busySessions(bench: Bench): Promise<string[]> {
  const { rows } = await bench.statsClient.query<{ state: string; wait: string | null; query: string; app: string }>(
    `SELECT state, wait_event_type || ':' || wait_event AS wait, left(query, 300) AS query, application_name AS app
       FROM pg_stat_activity WHERE datname = 'ledger_bench' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND state <> 'idle'`,
  );
  return rows.map((r) => {
    const statement = r.state === "active" ? statementOf(r.query, r.app) : `${r.state} (last: ${statementOf(r.query, r.app)})`;
    return r.wait && r.state === "active" ? `${statement} (${r.wait})` : statement;
  });
}

/** "relation bytes (full-page images bytes)" for the relations that wrote most, per transfer. */
function describeWal(w: WebhookWindow): string {
  return w.walByRelation.map((r) => `${r.relation} ${fmt(r.bytes)} (FPI ${fmt(r.fpiBytes)})`).join(", ");
}

function logWindow(w: WebhookWindow): void {
  const c = w.sample.cpu;
  const d = w.delivery;
  log(
    `  ${fmt(w.write.transfersPerSecond)} transfers/s, p50 ${fmt(w.write.p50Ms, 1)} ms, p99 ${fmt(w.write.p99Ms, 1)} ms, errors ${w.write.failureCount}` +
      (c
        ? `; CPU service ${pct(c.percentByGroup.service)}%, postgres ${pct(c.percentByGroup.postgres)}%, this script ${pct(c.percentByGroup.loadgen)}%, machine busy ${fmt(c.machineBusyPercent ?? Number.NaN)}%`
        : "") +
      `; sessions ${describeWaits(w.sample.waits)}; per transfer ${fmt(w.dbTransactionsPerTransfer ?? Number.NaN, 2)} PG transactions, ${fmt(w.walBytesPerTransfer ?? Number.NaN)} B WAL`,
  );
  log(`  WAL per transfer by relation: ${describeWal(w)}`);
  if (d)
    log(
      `  delivered ${fmt(d.received)} of ${fmt(d.expected)} transfer events (${fmt(d.requests)} requests, ${fmt(d.otherEvents)} other events), ${fmt(d.perSecond)}/s in the window; ` +
        `when the load ended ${fmt(d.madeAtEnd)} made, ${fmt(d.receivedAtEnd)} received, then ${fmt(d.afterLoadPerSecond ?? Number.NaN)}/s; ` +
        `all made ${lag(d.madeLagMs)}, all received ${lag(d.lagMs)} after the last write; ${fmt(d.attempts)} HTTP attempts, p50 ${fmt(d.attemptP50Ms ?? Number.NaN)} ms, p99 ${fmt(d.attemptP99Ms ?? Number.NaN)} ms` +
        (d.drained ? "" : `; NOT drained: ${fmt(d.undelivered)} deliveries left`) +
        `; busy sessions while waiting: ${describeWaits(d.waitSessions)}`,
    );
  if (w.outboxRows !== null) log(`  outbox rows written: ${fmt(w.outboxRows)} for ${fmt(w.write.allPosted)} transfers posted`);
}

const lag = (ms: number | null) => (ms === null ? "never" : `${fmt(ms / 1000, 1)} s`);

// ------------------------------------------------------------------ verdicts and tables

interface Cost {
  kind: Exclude<Kind, "none">;
  windows: WebhookWindow[];
  baselines: WebhookWindow[];
  /** Pooled: the mean of its windows against the mean of every none window next to one. */
  percent: number;
  perRound: number[];
}

function costOf(f: WebhookFigures, kind: Exclude<Kind, "none">): Cost | null {
  const windows = f.windows.filter((w) => w.kind === kind && w.costPercent !== null);
  if (windows.length === 0) return null;
  const baselines = [...new Set(windows.flatMap((w) => neighbours(f.windows, w)))];
  return { kind, windows, baselines, percent: 100 * (1 - tps(windows) / tps(baselines)), perRound: windows.map((w) => w.costPercent!) };
}

const spread = (values: number[]) =>
  values.length > 1 ? `${fmt(Math.min(...values), 1)} to ${fmt(Math.max(...values), 1)} %` : `${fmt(values[0] ?? Number.NaN, 1)} %`;

function verdicts(f: WebhookFigures): {
  goal: string;
  held: string;
  posts: string;
  apart: string;
  outbox: string;
  delivery: string;
  cpu: string;
  choice: string;
  sender: string;
  claims: string;
} {
  const endpoint = costOf(f, "endpoint");
  const held = costOf(f, "held");
  const outbox = costOf(f, "outbox");
  const posts = costOf(f, "posts");
  const apartCost = costOf(f, "apart");
  const deliveries = f.windows.flatMap((w) => (w.delivery && w.kind === "endpoint" ? [w.delivery] : []));
  const allDelivered = f.windows.every((w) => w.delivery === null || w.delivery.drained);
  const describe = (c: Cost) =>
    `${fmt(tps(c.windows))} transfers/s on average over ${c.windows.length} window${c.windows.length === 1 ? "" : "s"} vs ${fmt(tps(c.baselines))} ` +
    `over the ${c.baselines.length} no-endpoint windows around them = **${fmt(c.percent, 1)} %** lost ` +
    `(per round: ${c.perRound.map((p) => `${fmt(p, 1)} %`).join(", ")}; spread ${spread(c.perRound)})`;
  const met = endpoint ? endpoint.percent <= goalPercent && allDelivered : null;
  const goal = endpoint
    ? `one endpoint subscribed to every event type costs at most ${goalPercent} % of write throughput: ${met ? "**met**" : "**missed**"} — ${describe(endpoint)}` +
      (allDelivered ? "." : "; and not every event was delivered (see the notes).")
    : "not measured.";
  const heldText = held
    ? `the same endpoint with its breaker held open for the window (events and deliveries made as the writes commit, nothing sent until the load ends): ${describe(held)}; the rest of the endpoint's cost is the sending (claims, HTTP attempts, records) beside the writes.`
    : "not measured.";
  const apartText = apartCost
    ? `the same endpoint, with the load sent to a second service process on the same database started with \`LEDGER_WEBHOOKS=false\` (the webhook worker runs only in the first, which takes no writes then): ${describe(apartCost)}${apartCost.percent <= goalPercent ? ` — within the ${goalPercent} % goal` : ` — over the ${goalPercent} % goal`}.`
    : "not measured.";
  const postsText = posts
    ? `one signed POST of an event-sized body (1,200 B) per transfer answered, from a child process of this script to the same receiver, 16 at a time on kept-alive connections (undici, as the service sends), and no endpoint: ${describe(posts)}; what the HTTP exchange alone (sender and receiver on this machine) costs the writes, whatever design makes the requests.`
    : "not measured.";
  const outboxText = outbox
    ? `an outbox row per transfer, written by a trigger inside the write transaction: ${describe(outbox)}.`
    : "not measured.";
  const endpointWindows = f.windows.filter((w) => w.delivery && w.kind === "endpoint");
  const deliveryText = endpointWindows.length
    ? `${fmt(mean(deliveries.map((d) => d.perSecond)))} events delivered per second during the windows with the endpoint ` +
      `(${fmt(mean(endpointWindows.map((w) => w.delivery!.perSecond / w.write.transfersPerSecond)), 2)}x the transfers written then; ` +
      `per window ${endpointWindows.map((w) => fmt(w.delivery!.perSecond)).join(", ")}); the receiver had every event ` +
      `${deliveries.map((d) => lag(d.lagMs)).join(", ")} after the last write was answered (every delivery row made ${deliveries.map((d) => lag(d.madeLagMs)).join(", ")} after it).`
    : "not measured.";
  /** What a kind's windows add per transfer over the no-endpoint windows around them. */
  const added = (c: Cost, metric: (w: WebhookWindow) => number | null) =>
    mean(c.windows.map((w) => metric(w) ?? Number.NaN)) - mean(c.baselines.map((w) => metric(w) ?? Number.NaN));
  const wal = (w: WebhookWindow) => w.walBytesPerTransfer;
  const transactions = (w: WebhookWindow) => w.dbTransactionsPerTransfer;
  const cpuMs = (w: WebhookWindow) => w.cpuMsPerTransfer;
  const cpuText = (c: Cost | null, what: string) =>
    c ? `${what} ${fmt((100 * added(c, cpuMs)) / mean(c.baselines.map((w) => w.cpuMsPerTransfer ?? Number.NaN)), 1)} %` : "";
  const cpu = [cpuText(endpoint, "with the endpoint"), cpuText(outbox, "with the outbox")].filter(Boolean).join(", ");
  const choice =
    endpoint && outbox
      ? `the change feed with a persisted position (the design built) lost ${fmt(endpoint.percent, 1)} % with its whole delivery (events, ` +
        `deliveries, HTTP attempts) running beside the writes and adding ${fmt(added(endpoint, transactions), 2)} PG transactions and ` +
        `${fmt(added(endpoint, wal))} B of WAL per transfer, all outside the write transactions; the outbox lost ${fmt(outbox.percent, 1)} % ` +
        `for its row alone, adding ${fmt(added(outbox, wal))} B of WAL per transfer inside each write, before any relay reads, sends, ` +
        "records and deletes those rows (the delivery work the endpoint windows include)."
      : "needs both measured.";
  return {
    goal,
    held: heldText,
    posts: postsText,
    apart: apartText,
    outbox: outboxText,
    delivery: deliveryText,
    cpu: cpu
      ? `CPU of the service and PostgreSQL per transfer inside the windows, against the no-endpoint windows around them: ${cpu} (a figure that other processes on the machine move less than throughput).`
      : "not measured.",
    choice,
    sender: senderText(f.senderCost),
    claims: claimsText(f.claimScale),
  };
}

function claimsText({ idleEndpoints, claims, aloneMs, amongIdleMs }: ClaimScale): string {
  return (
    `one claim of 16 deliveries from one endpoint (\`ledger_webhook_claim\`, in a transaction rolled back), median of ${fmt(claims)} ` +
    `claims alternating between a database where it is the only endpoint and one with ${fmt(idleEndpoints)} more enabled endpoints ` +
    `without work: **${fmt(aloneMs, 2)} ms** alone, **${fmt(amongIdleMs, 2)} ms** among the idle ones (${fmt(amongIdleMs / aloneMs, 2)}x); ` +
    "a claim looks only at endpoints with work (`webhook_endpoint_work`)."
  );
}

function senderText({ senderUs, nodeHttpUs, requestsPerRound, rounds }: SenderCost): string {
  return (
    `one signed event-sized POST (1,200 B) to a receiver in this script, 16 in flight on kept-alive connections, from a child ` +
    `process that measures its own CPU (median of ${rounds} rounds of ${fmt(requestsPerRound)} requests each, alternating): ` +
    `the service's sender (\`src/webhooks/sender.ts\`, undici) **${fmt(senderUs)} µs** per attempt, a bare \`node:http\` ` +
    `request ${fmt(nodeHttpUs)} µs (${fmt(senderUs / nodeHttpUs, 2)}x).`
  );
}

export const errors = (f: WebhookFigures) =>
  f.windows.reduce((sum, w) => sum + w.write.failureCount + (w.delivery ? Math.max(0, w.delivery.expected - w.delivery.received) : 0), 0);

const kindText: Record<Kind, string> = {
  none: "none",
  endpoint: "endpoint, every event type",
  held: "endpoint, sending held",
  posts: "HTTP posts from a child process, no endpoint",
  apart: "endpoint, writes to a second service without the worker",
  outbox: "outbox trigger, no endpoint",
};
const cpuOf = (w: WebhookWindow, group: string) => (w.sample.cpu ? `${pct(w.sample.cpu.percentByGroup[group])}%` : "n/a");

function tables(f: WebhookFigures): { results: Table; resources: Table; notes: string[] } {
  const notes: string[] = [];
  for (const w of f.windows) {
    const d = w.delivery;
    const parts = [
      w.write.failureCount ? `write errors: ${[...w.write.failures].map(([l, n]) => `${l} x${n}`).join("; ")}` : "",
      d && !d.drained
        ? `not every event arrived within the wait (${fmt(drainMaxMs / 1000)} s, or ${fmt(drainStallMs / 1000)} s without progress): ${fmt(d.undelivered)} deliveries left undelivered`
        : "",
      d && d.requests > d.received + d.otherEvents ? `${fmt(d.requests - d.received - d.otherEvents)} events were sent again` : "",
      d?.otherEvents ? `${fmt(d.otherEvents)} events of other types (holds of earlier groups expiring) arrived too` : "",
      d
        ? `${fmt(d.attempts)} HTTP attempts; busy ledger sessions while waiting for the events (mean, by statement): ${describeWaits(d.waitSessions)}`
        : "",
      w.walByRelation.length ? `WAL bytes per transfer by relation (full-page images in them): ${describeWal(w)}` : "",
      w.posts !== null ? `${fmt(w.posts)} posts answered for ${fmt(w.write.allPosted)} transfers posted` : "",
      w.outboxRows !== null && w.outboxRows !== w.write.allPosted
        ? `the outbox has ${fmt(w.outboxRows)} rows for ${fmt(w.write.allPosted)} transfers posted`
        : "",
    ].filter(Boolean);
    if (parts.length) notes.push(`${w.label}: ${parts.join("; ")}.`);
  }
  return {
    results: {
      headers: [
        "window",
        "webhooks",
        "transfers/s",
        "lost vs no endpoint around it",
        "write p50 / p99 ms",
        "events delivered/s in the window",
        "made / received when the load ended, of all",
        "all made after the last write",
        "all received after the last write",
        "events/s after the load",
        "HTTP attempt p50 / p99 ms",
      ],
      align: [false, false, true, true, true, true, true, true, true, true, true],
      rows: f.windows.map((w) => {
        const d = w.delivery;
        return [
          w.label,
          kindText[w.kind],
          fmt(w.write.transfersPerSecond),
          w.costPercent === null ? "-" : `${fmt(w.costPercent, 1)}%`,
          `${fmt(w.write.p50Ms, 1)} / ${fmt(w.write.p99Ms, 1)}`,
          d ? fmt(d.perSecond) : "-",
          d ? `${fmt(d.madeAtEnd)} / ${fmt(d.receivedAtEnd)} of ${fmt(d.expected)}` : "-",
          d ? lag(d.madeLagMs) : "-",
          d ? lag(d.lagMs) : "-",
          d ? fmt(d.afterLoadPerSecond ?? Number.NaN) : "-",
          d ? `${fmt(d.attemptP50Ms ?? Number.NaN)} / ${fmt(d.attemptP99Ms ?? Number.NaN)}` : "-",
        ];
      }),
    },
    resources: {
      headers: [
        "window",
        "service",
        "PostgreSQL",
        "this script (writers, receiver)",
        "other processes",
        "machine busy",
        "ledger sessions (mean, by wait)",
        "PG transactions / transfer",
        "WAL bytes / transfer",
        "service + PostgreSQL CPU ms / transfer",
      ],
      align: [false, true, true, true, true, true, false, true, true, true],
      rows: f.windows.map((w) => [
        w.label,
        cpuOf(w, "service"),
        cpuOf(w, "postgres"),
        cpuOf(w, "loadgen"),
        cpuOf(w, "other"),
        w.sample.cpu ? `${fmt(w.sample.cpu.machineBusyPercent ?? Number.NaN)}%` : "n/a",
        describeWaits(w.sample.waits),
        fmt(w.dbTransactionsPerTransfer ?? Number.NaN, 2),
        fmt(w.walBytesPerTransfer ?? Number.NaN),
        fmt(w.cpuMsPerTransfer ?? Number.NaN, 2),
      ]),
    },
    notes,
  };
}

export function print(f: WebhookFigures, { seconds, warmupSeconds }: Settings): void {
  const t = tables(f);
  const v = verdicts(f);
  console.log(
    `\nWebhooks: postTransfer load, ${f.writers} writers, uniform pairs of ${fmt(f.accounts)} accounts (${seconds} s windows after ${warmupSeconds} s warm-up)\n`,
  );
  console.log(textTable(t.results));
  console.log(`\nResources (CPU: percent of one core; the machine has ${os.availableParallelism()} cores)\n`);
  console.log(textTable(t.resources));
  for (const note of t.notes) console.log(`  ${note}`);
  console.log(`Goal: ${plain(v.goal)}`);
  console.log(`Sending held: ${plain(v.held)}`);
  console.log(`Worker apart: ${plain(v.apart)}`);
  console.log(`HTTP posts only: ${plain(v.posts)}`);
  console.log(`Outbox: ${plain(v.outbox)}`);
  console.log(`Delivery: ${plain(v.delivery)}`);
  console.log(`CPU: ${plain(v.cpu)}`);
  console.log(`Sender: ${plain(v.sender)}`);
  console.log(`Claims among idle endpoints: ${plain(v.claims)}`);
}

export function section(f: WebhookFigures, stamp: RunStamp, { seconds, warmupSeconds }: Settings): string {
  const t = tables(f);
  const v = verdicts(f);
  const stderr = f.serviceStderrLines;
  return marked(
    "webhooks",
    `## Webhooks under write load: one endpoint, and an outbox instead

${stampLines(stamp)}

${markdownTable(t.results)}

- Goal: ${v.goal}
- The webhook worker in a process of its own: ${v.apart}
- Making events without sending them: ${v.held}
- The HTTP requests alone: ${v.posts}
- Outbox, for the design choice: ${v.outbox}
- Delivery: ${v.delivery}
- CPU: ${v.cpu}
- The sender alone: ${v.sender}
- Claims among idle endpoints: ${v.claims}
- Design choice, measured: ${v.choice}

Resources during each window (CPU in percent of one core, from \`/proc\`; "PG transactions / transfer" and
"WAL bytes / transfer": \`xact_commit + xact_rollback\` of the ledger database and WAL written from before the
load until its events were all delivered (endpoint windows) or it ended (the others), per transfer posted, warm-up
included: the writes' own, the webhook worker's passes, claims and recorded attempts, the outbox rows; "CPU ms /
transfer": the service's and PostgreSQL's CPU inside the window per transfer posted in it):

${markdownTable(t.resources)}

${t.notes.map((n) => `- ${n}`).join("\n")}${t.notes.length ? "\n" : ""}- Service stderr during this group: ${stderr.length === 0 ? "nothing" : `${stderr.length}${stderr.length >= 500 ? "+" : ""} lines, first: \`${stderr.slice(0, 3).join(" | ").slice(0, 300)}\``}.

- Load: the live group's, ${f.writers} closed-loop writers sending \`postTransfer\` between two distinct accounts
  picked at random from ${fmt(f.accounts)} USD accounts; ${seconds} s window after ${warmupSeconds} s of warm-up, the
  same load in every window. Windows: no endpoint, then ${f.rounds} round${f.rounds === 1 ? "" : "s"} of (endpoint,
  no endpoint, worker apart, no endpoint, sending held, no endpoint, HTTP posts only, no endpoint, outbox, no endpoint), each after \`VACUUM ANALYZE\` and a \`CHECKPOINT\`; "lost vs no endpoint around
  it" is against the mean of the no-endpoint windows just before and after, the goal's figure pools each kind's
  windows against every no-endpoint window next to one. Ratios within one run: the machine is shared and noisy.
- No endpoint: none was created yet (first window) or it is disabled (\`disableWebhookEndpoint\`); the service's
  webhook worker runs as always (\`LEDGER_WEBHOOKS\` on by default), its materializer moving only its stored position.
- Endpoint: one endpoint of the tenant (\`createWebhookEndpoint\`, later \`updateWebhookEndpoint(enabled: true)\`)
  subscribed to every event type, its URL an HTTP server in this script on 127.0.0.1 that answers 200 at once and
  counts requests and distinct \`Ledger-Event-Id\`s (the service runs with \`LEDGER_WEBHOOK_ALLOW_PRIVATE_URLS=true\`
  for it; other settings default: 16 attempts in flight per endpoint, polls every 500 ms, woken by commits, events made
  at most every 100 ms). Every
  transfer makes one \`transfer.posted\` event and one delivery. After the load the group waits until the receiver
  has every event of it and no delivery of it is pending, then disables the endpoint, so no window's deliveries
  run into the next; "all made" / "all received after the last write": from the answer of the load's last
  request until the last delivery row was made (polled every 100 ms) / the last event arrived. "events delivered/s":
  distinct events that arrived inside the ${seconds} s window; "events/s after the load": those that arrived after
  it, per second until the last (the dispatcher with no writes beside it); "HTTP attempt": \`webhook_deliveries.attempts[].duration_ms\`
  of the window's deliveries (connect, POST, answer; the rest of a delivery's time is its claim and its record in
  the database). "busy ledger sessions while waiting": \`pg_stat_activity\` of \`ledger_bench\` sampled every 100 ms
  while the group waited for the events (no writes then), by what the session runs: the dispatcher's cycles (each
  records the attempts that finished and claims again in one call, under the advisory lock that serializes
  claims), the materializer, commits; "idle in transaction
  (last: ...)" is a session between two statements of a transaction. The receiver shares this script's
  process (and its CPU) with the writers.
- Sending held: the same endpoint, enabled, with its circuit breaker held open by this script for the window
  (\`breaker_open_until\` set to infinity in SQL, let go when the load ends): the materializer makes events and
  deliveries as the writes commit, and the dispatcher claims nothing for the endpoint until the load ends; then the
  group waits for every event as after an endpoint window. Its loss is the cost of making events beside the writes;
  the endpoint's loss beyond it is the cost of sending them at the same time.
- Worker apart: the endpoint enabled as in an endpoint window, but the writers send to a second service process
  on the same database (started for the first such window with \`LEDGER_WEBHOOKS=false\`, otherwise the same
  settings). The first service, whose webhook worker makes and sends the events, takes no writes in the window and
  finds their commits by its poll (every 500 ms). The second process's CPU is under "other processes"; the service
  column is the first's.
- HTTP posts only: no endpoint; for the window a child process of this script (\`bench/lib/poster.ts\`) sends one
  POST per transfer answered (told every 50 ms) to the same receiver: a 1,200 B JSON body, HMAC-SHA256 signed as the
  service signs, at most 16 in flight on kept-alive connections, with undici as the service sends. The service sends nothing; the loss is what the HTTP
  exchange of one request per event (its sender's and its receiver's CPU on these 2 cores) costs the writes, the
  part of an endpoint's cost that no change inside the service removes while every event is its own request.
- Outbox: for the window only, an \`AFTER INSERT ON transfers FOR EACH ROW\` trigger in \`ledger_bench\` inserts
  (transfer id, tenant, \`to_jsonb(NEW)\`) into a scratch table \`bench_outbox\` (bigserial primary key) inside each
  write transaction; dropped with the table after the window. No endpoint is enabled and nothing reads the outbox:
  the figure is the write-side cost alone, without the relay that would read, send and delete those rows, and with
  a row smaller than an event's payload (which carries the entries and balances).`,
  );
}
