// The subscriber side of the "live" scenario group (bench/scenarios/live.ts), run as a child
// process of its own so thousands of WebSocket clients do not share an event loop with the
// writers whose throughput is measured. Each subscriber is one connection speaking
// graphql-transport-ws by hand (connection_init -> connection_ack -> one subscribe of
// balanceChanged on one account); every event's receive time is recorded before it is parsed.
// The parent drives it over IPC (messages below) and reads the events only after the load, so
// nothing crosses IPC while throughput is measured.
import WebSocket from "ws";
import { leanDocuments } from "../../test/support/ledger-client.js";

export interface OpenRequest {
  type: "open";
  port: number;
  key: string;
  /** Global account id per subscriber (subscriber i watches accountIds[i]). */
  accountIds: string[];
  batch: number;
  timeoutMs: number;
}
export type ParentMessage =
  | OpenRequest
  | { type: "clock"; parentMs: number }
  | { type: "status"; indexes?: boolean }
  | { type: "reset" }
  | { type: "collect" }
  | { type: "close"; timeoutMs: number };

export interface Opened {
  type: "opened";
  ok: number;
  /** Failure reason -> connections. */
  failures: Record<string, number>;
  seconds: number;
}
export interface Status {
  type: "status";
  events: number;
  /** Subscribers that received at least one event since they subscribed (their subscription is live). */
  live: number;
  /** Subscriber indexes that are open, subscribed and have received an event. */
  liveIndexes?: number[];
}
export interface Collected {
  type: "collected";
  /** Transfer id -> receive times (this process's wall clock, ms) of its events. */
  byTransfer: Record<string, number[]>;
  /** Events whose version was not above the subscriber's previous one (repeated or out of order). */
  duplicates: number;
  /** Versions skipped: a version above the previous one plus one (each skipped version counts). */
  gaps: number;
  /** Events naming another account than the one subscribed, or without a transfer. */
  malformed: number;
  /** Connections the server closed or that errored after opening: "code reason" -> count. */
  closedEarly: Record<string, number>;
  /** GraphQL errors received on subscriptions: message -> count. */
  errors: Record<string, number>;
}
export interface Closed {
  type: "closed";
  clean: number;
  forced: number;
}
export type ChildMessage = Opened | Status | Collected | Closed | { type: "clock"; parentMs: number; childMs: number };

/** Wall-clock ms with sub-millisecond resolution (the parent converts with a measured offset). */
const now = () => performance.timeOrigin + performance.now();

interface Subscriber {
  index: number;
  accountId: string;
  ws: WebSocket;
  /** Set once connection_ack arrived and the subscribe went out. */
  subscribed: boolean;
  lastVersion: bigint | null;
  events: number;
  closing: boolean;
}

const subscribers: Subscriber[] = [];
let byTransfer = new Map<string, number[]>();
let eventCount = 0;
let duplicates = 0;
let gaps = 0;
let malformed = 0;
const closedEarly: Record<string, number> = {};
const errors: Record<string, number> = {};
const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);
const send = (message: ChildMessage) => process.send?.(message);

function onEvent(s: Subscriber, receivedAt: number, data: string): void {
  const message = JSON.parse(data) as { type: string; payload?: any };
  if (message.type === "ping") return void s.ws.send(JSON.stringify({ type: "pong" }));
  if (message.type === "error") return void bump(errors, String(message.payload?.[0]?.message ?? "?").slice(0, 160));
  if (message.type === "complete") return void bump(errors, "subscription completed by the server");
  if (message.type !== "next") return;
  if (message.payload?.errors) return void bump(errors, String(message.payload.errors[0]?.message ?? "?").slice(0, 160));
  const change = message.payload?.data?.balanceChanged;
  const transferId: unknown = change?.transfer?.id;
  if (typeof transferId !== "string" || change?.account?.id !== s.accountId) {
    malformed += 1;
    return;
  }
  const version = BigInt(change.version);
  if (s.lastVersion !== null) {
    if (version <= s.lastVersion) duplicates += 1;
    else gaps += Number(version - s.lastVersion - 1n);
  }
  if (s.lastVersion === null || version > s.lastVersion) s.lastVersion = version;
  s.events += 1;
  eventCount += 1;
  const times = byTransfer.get(transferId);
  if (times) times.push(receivedAt);
  else byTransfer.set(transferId, [receivedAt]);
}

/** Opens one subscriber: resolves once its subscribe is sent, rejects with a short reason. */
function openOne(request: OpenRequest, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${request.port}/graphql`, "graphql-transport-ws", { perMessageDeflate: false });
    const s: Subscriber = {
      index,
      accountId: request.accountIds[index]!,
      ws,
      subscribed: false,
      lastVersion: null,
      events: 0,
      closing: false,
    };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no connection_ack within ${request.timeoutMs} ms`));
    }, request.timeoutMs);
    ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${request.key}` } })));
    ws.on("message", (data: Buffer) => {
      const receivedAt = now();
      if (s.subscribed) return onEvent(s, receivedAt, data.toString("utf8"));
      const message = JSON.parse(data.toString("utf8")) as { type: string };
      if (message.type !== "connection_ack") return;
      ws.send(
        JSON.stringify({ id: "1", type: "subscribe", payload: { query: leanDocuments.balanceChanged, variables: { ids: [s.accountId] } } }),
      );
      s.subscribed = true;
      subscribers.push(s);
      clearTimeout(timer);
      resolve();
    });
    ws.on("error", (error: Error) => {
      clearTimeout(timer);
      if (!s.subscribed) reject(new Error(error.message.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, "<addr>")));
      else if (!s.closing) bump(closedEarly, `error: ${error.message}`);
    });
    ws.on("close", (code: number, reason: Buffer) => {
      clearTimeout(timer);
      if (!s.subscribed) reject(new Error(`closed ${code} ${reason.toString("utf8")}`.trim()));
      else if (!s.closing) bump(closedEarly, `${code} ${reason.toString("utf8")}`.trim());
    });
  });
}

async function open(request: OpenRequest): Promise<Opened> {
  const started = performance.now();
  const failures: Record<string, number> = {};
  let ok = 0;
  for (let from = 0; from < request.accountIds.length; from += request.batch) {
    const batch = Array.from({ length: Math.min(request.batch, request.accountIds.length - from) }, (_, i) => from + i);
    const outcomes = await Promise.allSettled(batch.map((index) => openOne(request, index)));
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") ok += 1;
      else bump(failures, outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason));
    }
  }
  return { type: "opened", ok, failures, seconds: (performance.now() - started) / 1000 };
}

function status(withIndexes: boolean): Status {
  const live = subscribers.filter((s) => s.events > 0 && s.ws.readyState === WebSocket.OPEN);
  return { type: "status", events: eventCount, live: live.length, ...(withIndexes ? { liveIndexes: live.map((s) => s.index) } : {}) };
}

/** Closes every connection with 1000 and waits for the close handshakes; terminates laggards. */
async function closeAll(timeoutMs: number): Promise<Closed> {
  let clean = 0;
  let forced = 0;
  await Promise.all(
    subscribers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closing = true;
          if (s.ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            forced += 1;
            s.ws.terminate();
            resolve();
          }, timeoutMs);
          s.ws.once("close", () => {
            clearTimeout(timer);
            clean += 1;
            resolve();
          });
          s.ws.close(1000, "benchmark done");
        }),
    ),
  );
  return { type: "closed", clean, forced };
}

process.on("message", (message: ParentMessage) => {
  switch (message.type) {
    case "open":
      void open(message).then(send);
      break;
    case "clock":
      send({ type: "clock", parentMs: message.parentMs, childMs: now() });
      break;
    case "status":
      send(status(message.indexes === true));
      break;
    case "reset":
      // The readiness probe's events are not part of the measurement (versions keep their chain).
      byTransfer = new Map();
      eventCount = duplicates = gaps = malformed = 0;
      for (const key of Object.keys(errors)) delete errors[key];
      send(status(false));
      break;
    case "collect":
      send({ type: "collected", byTransfer: Object.fromEntries(byTransfer), duplicates, gaps, malformed, closedEarly, errors });
      break;
    case "close":
      void closeAll(message.timeoutMs).then((closed) => {
        send(closed);
        process.disconnect();
      });
      break;
  }
});
// Orphaned (the parent died): leave rather than hold thousands of sockets open.
process.on("disconnect", () => setTimeout(() => process.exit(0), 1000).unref());
