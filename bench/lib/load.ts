// HTTP load generation against the service's /graphql: one request, and the closed-loop load
// generator (N clients, each with its own keep-alive connection, sending one GraphQL request
// after another). Every request's latency is recorded; throughput counts only the transfers the
// service reports as TransferPosted. Also how a GraphQL answer is read into failure labels.
import http from "node:http";
import type { Socket } from "node:net";
import { log, sleep } from "./lifecycle.js";
import { percentile } from "./stats.js";

/** Bound on every request the scenarios send. */
export const requestTimeoutMs = 30_000;

export interface Endpoint {
  port: number;
  authorization: string;
}

export interface HttpAnswer {
  status: number;
  text: string;
}

/** One POST /graphql on `agent`; rejects on transport errors and after `timeoutMs`. */
export function postGraphql(
  agent: http.Agent,
  endpoint: Endpoint,
  body: string,
  timeoutMs: number,
  onSocket?: (socket: Socket) => void,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port: endpoint.port,
        path: "/graphql",
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          authorization: endpoint.authorization,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    if (onSocket) request.once("socket", onSocket);
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end(body);
  });
}

/** What one answer meant: transfers posted, and a label for each failure in it. */
export interface Verdict {
  posted: number;
  failures: string[];
}

interface GraphqlJson {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

/** Parses an answer; GraphQL errors and HTTP failures become failure labels. */
export function parseAnswer(answer: HttpAnswer): { json: GraphqlJson | null; failures: string[] } {
  let json: GraphqlJson | null = null;
  try {
    json = JSON.parse(answer.text) as GraphqlJson;
  } catch {
    return { json: null, failures: [`HTTP ${answer.status}, not JSON: ${answer.text.slice(0, 120)}`] };
  }
  const failures = (json.errors ?? []).map((e) => `GraphQL error ${e.extensions?.code ?? ""}: ${e.message ?? "?"}`.slice(0, 200));
  if (answer.status !== 200 && failures.length === 0) failures.push(`HTTP ${answer.status}`);
  return { json, failures };
}

export type ResultJson = { __typename?: string; code?: string };

/** A failure label for a mutation result that was not the expected success. */
export const resultLabel = (result: ResultJson | null | undefined) =>
  result ? `result ${result.__typename ?? "?"}${result.code && result.code !== result.__typename ? ` (${result.code})` : ""}` : "no result";

export interface ScenarioSpec {
  name: string;
  clients: number;
  warmupMs: number;
  measureMs: number;
  /** Transfers each request asks for (for the record). */
  transfersPerRequest: number;
  /** The JSON body of a client's next request. */
  nextBody: (client: number) => string;
  /** Reads an HTTP answer. */
  judge: (answer: HttpAnswer) => Verdict;
  requestTimeoutMs: number;
  /** Called once the warm-up is over and again when the window closes (CPU snapshots). */
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
  /** Stops the run early (e.g. the service died). */
  shouldAbort?: () => string | null;
  /** Sees every request: its client, when it was sent and answered (performance.now()), the answer (null: transport error). */
  onAnswer?: (client: number, sentMs: number, doneMs: number, answer: HttpAnswer | null) => void;
}

/** What every closed-loop run reports besides its own figures. */
export interface LoadOutcome {
  clients: number;
  windowSeconds: number;
  /** Requests answered during the whole run (warm-up included). */
  allRequests: number;
  /** Failures anywhere in the run, warm-up included, by label. */
  failures: Map<string, number>;
  failureCount: number;
  aborted: string | null;
}

export interface ScenarioResult extends LoadOutcome {
  name: string;
  transfersPerRequest: number;
  /** Requests completed inside the measurement window. */
  requests: number;
  /** Transfers posted by the requests answered during the whole run (warm-up included). */
  allPosted: number;
  /** Transfers posted (TransferPosted) by requests completed inside the window. */
  transfersPosted: number;
  transfersPerSecond: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** TCP connections the clients opened (keep-alive: one per client expected). */
  connectionsOpened: number;
}

export async function runScenario(spec: ScenarioSpec, endpoint: Endpoint): Promise<ScenarioResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.clients, maxFreeSockets: spec.clients });
  const sockets = new WeakSet<Socket>();
  let connectionsOpened = 0;
  const noteSocket = (socket: Socket) => {
    if (!sockets.has(socket)) {
      sockets.add(socket);
      connectionsOpened += 1;
    }
  };

  const window = measurementWindow(spec);
  // Generous bound on the latencies one window can hold; grows if ever needed.
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let requests = 0;
  let posted = 0;
  let allRequests = 0;
  let allPosted = 0;
  let failureCount = 0;
  const failures = new Map<string, number>();
  let aborted: string | null = null;
  const fail = (label: string) => {
    failureCount += 1;
    failures.set(label, (failures.get(label) ?? 0) + 1);
  };

  async function client(id: number): Promise<void> {
    while (window.open() && aborted === null) {
      const reason = spec.shouldAbort?.();
      if (reason) {
        aborted = reason;
        return;
      }
      const body = spec.nextBody(id);
      const sent = performance.now();
      let verdict: Verdict;
      let answer: HttpAnswer | null = null;
      let transportError = false;
      try {
        answer = await postGraphql(agent, endpoint, body, spec.requestTimeoutMs, noteSocket);
        verdict = spec.judge(answer);
      } catch (error) {
        transportError = true;
        verdict = { posted: 0, failures: [`transport: ${error instanceof Error ? error.message : String(error)}`] };
      }
      const done = performance.now();
      spec.onAnswer?.(id, sent, done, answer);
      for (const label of verdict.failures) fail(label);
      allRequests += 1;
      allPosted += verdict.posted;
      if (window.contains(done)) {
        if (count === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[count++] = done - sent;
        requests += 1;
        posted += verdict.posted;
      }
      // A dead or refusing server must not turn this loop into a busy spin.
      if (transportError) await sleep(50);
    }
  }

  let windowSeconds = 0;
  try {
    await Promise.all(Array.from({ length: spec.clients }, (_, id) => client(id)));
  } finally {
    windowSeconds = window.close();
    agent.destroy();
  }

  const sorted = latencies.slice(0, count).sort();
  return {
    name: spec.name,
    clients: spec.clients,
    transfersPerRequest: spec.transfersPerRequest,
    windowSeconds,
    requests,
    allRequests,
    allPosted,
    transfersPosted: posted,
    transfersPerSecond: windowSeconds > 0 ? posted / windowSeconds : 0,
    requestsPerSecond: windowSeconds > 0 ? requests / windowSeconds : 0,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: count > 0 ? sorted[count - 1]! : Number.NaN,
    failures,
    failureCount,
    connectionsOpened,
    aborted,
  };
}

/** One log line per kind of failure of a run. */
export function logFailures(failures: Map<string, number>): void {
  for (const [label, count] of failures) log(`  error x${count}: ${label}`);
}

/**
 * The timing of one closed-loop run from now: `warmupMs` of warm-up, then the `measureMs` window,
 * with onWindowStart and onWindowEnd called when it opens and closes.
 */
export function measurementWindow(spec: Pick<ScenarioSpec, "warmupMs" | "measureMs" | "onWindowStart" | "onWindowEnd">) {
  const windowStart = performance.now() + spec.warmupMs;
  const windowEnd = windowStart + spec.measureMs;
  let started = false;
  let ended = false;
  const startTimer = setTimeout(() => {
    started = true;
    spec.onWindowStart?.();
  }, spec.warmupMs);
  const endTimer = setTimeout(() => {
    ended = true;
    spec.onWindowEnd?.();
  }, spec.warmupMs + spec.measureMs);
  return {
    /** Whether the window has not ended yet (clients keep sending). */
    open: () => performance.now() < windowEnd,
    /** Whether a request completed at `t` (performance.now()) counts. */
    contains: (t: number) => t >= windowStart && t <= windowEnd,
    /** Ends the run (closing a window that opened early, e.g. on an abort); returns the seconds of window that passed. */
    close: (): number => {
      clearTimeout(startTimer);
      clearTimeout(endTimer);
      if (started && !ended) spec.onWindowEnd?.();
      return Math.max(0, Math.min(performance.now(), windowEnd) - windowStart) / 1000;
    },
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function mapLimited<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}
