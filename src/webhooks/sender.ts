// One webhook delivery attempt: a POST to a tenant's URL, bounded in every way a remote server
// could hold the ledger up (connect time, total time, response size), to an address checked at
// connect time (url-safety.ts), never following a redirect (which could lead anywhere). Whatever
// happens, it resolves with what happened, for the delivery log and the retry schedule: it never
// throws, and leaves no socket or timer behind.
//
// With a dispatcher's ConnectionPool, connections are kept alive between attempts to the same
// host (a busy endpoint would otherwise pay a TCP and TLS handshake per event), but only after an
// attempt that read its whole response:
// any other ending (a timeout, a cut-off or oversized body, an error) destroys the socket, so no
// attempt's state is carried into the next. Idle sockets are closed after a few seconds. A
// request that fails on a reused socket before any response (the server closed it meanwhile) is
// tried once more on a new connection, within the same time budget.
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, type RequestOptions, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { urlToHttpOptions } from "node:url";
import { checkWebhookUrl, guardedLookup, privateAddressErrorCode } from "./url-safety.js";

export type AttemptOutcome = "SUCCESS" | "HTTP_ERROR" | "GONE" | "TIMEOUT" | "CONNECT_ERROR" | "REFUSED_ADDRESS";

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** The response's status; null when none came. */
  statusCode: number | null;
  durationMs: number;
  /** A short reason for anything but SUCCESS (never a header or a secret). */
  error: string | null;
  /** The first `responseBytesMax` bytes of the response body (whole characters, UTF-8); null when no response came. */
  responseExcerpt: string | null;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendOptions {
  /** Until the TCP connection is made, name lookup included (a TLS handshake counts in the total). */
  connectTimeoutMs: number;
  /** Until the response's status, headers and (limited) body are read. */
  totalTimeoutMs: number;
  /** How much of the response body is read and kept; the rest is not read. */
  responseBytesMax: number;
  /** Let private and local addresses through (tests, or a ledger whose receivers are on its own network). */
  allowPrivate: boolean;
}

export const webhookUserAgent = "graphql-ledger-webhooks/1";

/** How long an idle kept-alive socket stays open (below the 5 s that Node's and many servers' keep-alive timeouts give). */
const idleSocketMs = 4_000;

/** Kept-alive connections of one dispatcher: an agent per protocol and address policy (the lookup that checks addresses is the agent's). */
export interface ConnectionPool {
  agentFor(protocol: string, allowPrivate: boolean): HttpAgent;
  /** Closes every socket, idle or not (a dispatcher whose attempts have all finished). */
  close(): void;
}

export function connectionPool(): ConnectionPool {
  const agents = new Map<string, HttpAgent>();
  return {
    agentFor(protocol, allowPrivate) {
      const name = `${protocol}${allowPrivate}`;
      let agent = agents.get(name);
      if (!agent) {
        const settings = { keepAlive: true, timeout: idleSocketMs, scheduling: "lifo" as const, lookup: guardedLookup(allowPrivate) };
        agent = protocol === "https:" ? new HttpsAgent(settings) : new HttpAgent(settings);
        agents.set(name, agent);
      }
      return agent;
    },
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

/** Errors of a request on a kept connection that the receiver closed as it went out. */
const staleSocketCodes = new Set(["ECONNRESET", "EPIPE"]);

/** The two address policies' lookups, made once (every connection of that policy uses it). */
const lookups = { true: guardedLookup(true), false: guardedLookup(false) };

/** One attempt; with `pool`, on a kept-alive connection when there is one (else a fresh connection, closed after). */
export async function sendWebhook(request: WebhookRequest, options: SendOptions, pool?: ConnectionPool): Promise<AttemptResult> {
  const startedAt = performance.now();
  const first = await sendOnce(request, options, startedAt, pool);
  if (!first.staleSocket) return first.result;
  return (await sendOnce(request, options, startedAt)).result;
}

/**
 * A URL's check and request target, by policy and URL: a busy endpoint's URL is parsed and
 * checked once, not per attempt (the check is a function of the text and the policy alone; the
 * addresses a name resolves to are checked at every connection, by the lookup).
 */
type Target = { ok: true; protocol: string; options: RequestOptions } | { ok: false; message: string };
const targets = new Map<string, Target>();
const targetsMax = 1_000;

function targetOf(url: string, allowPrivate: boolean): Target {
  const key = `${allowPrivate ? "+" : "-"}${url}`;
  let target = targets.get(key);
  if (target === undefined) {
    const checked = checkWebhookUrl(url, allowPrivate);
    target = checked.ok
      ? { ok: true, protocol: checked.url.protocol, options: urlToHttpOptions(checked.url) }
      : { ok: false, message: checked.message };
    if (targets.size >= targetsMax) targets.clear();
    targets.set(key, target);
  }
  return target;
}

function sendOnce(
  request: WebhookRequest,
  options: SendOptions,
  startedAt: number,
  pool?: ConnectionPool,
): Promise<{ result: AttemptResult; staleSocket: boolean }> {
  return new Promise((done) => {
    const exchange = new Exchange(options, startedAt, pool !== undefined, done);
    const target = targetOf(request.url, options.allowPrivate);
    if (!target.ok) {
      exchange.finish("REFUSED_ADDRESS", null, target.message, null);
      return;
    }
    const body = Buffer.from(request.body, "utf8");
    try {
      exchange.client = (target.protocol === "https:" ? httpsRequest : httpRequest)({
        ...target.options,
        method: "POST",
        agent: pool ? pool.agentFor(target.protocol, options.allowPrivate) : false,
        lookup: lookups[`${options.allowPrivate}`],
        headers: {
          ...request.headers,
          "content-type": "application/json",
          "content-length": String(body.length),
          "user-agent": webhookUserAgent,
        },
      });
    } catch (error) {
      // Only a header name or value Node refuses (a control character) throws here.
      const code = (error as { code?: string }).code ?? "invalid request";
      exchange.finish("CONNECT_ERROR", null, `the request could not be made (${code})`, null);
      return;
    }
    exchange.start(body);
  });
}

// The exchange of one attempt. Its listeners and timers are functions made once for all
// attempts (an attempt is found on the emitter or passed to the timer), not closures made per
// attempt: at a thousand attempts a second, making them cost the dispatcher more than its own work.
const kExchange = Symbol("webhook exchange");
type Carrying = { [kExchange]?: Exchange };

class Exchange {
  client: ClientRequest | undefined;
  response: IncomingMessage | undefined;
  settled = false;
  complete = false;
  staleSocket = false;
  totalTimer: NodeJS.Timeout | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  decoder: StringDecoder | undefined;
  excerpt = "";
  bytesLeft: number;

  constructor(
    readonly options: SendOptions,
    readonly startedAt: number,
    readonly pooled: boolean,
    readonly done: (outcome: { result: AttemptResult; staleSocket: boolean }) => void,
  ) {
    this.bytesLeft = options.responseBytesMax;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  start(body: Buffer): void {
    const client = this.client! as ClientRequest & Carrying;
    client[kExchange] = this;
    armDeadline(this, "total");
    client.once("socket", onSocket);
    client.on("error", onClientError);
    client.on("response", onResponse);
    client.end(body);
  }

  finish(outcome: AttemptOutcome, statusCode: number | null, error: string | null, responseExcerpt: string | null): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.totalTimer);
    clearTimeout(this.connectTimer);
    // Kept for the next attempt only when its response was read to the end.
    if (!(this.complete && this.response?.complete)) {
      this.response?.destroy();
      this.client?.destroy();
    }
    const result = { outcome, statusCode, durationMs: Math.round(this.elapsedMs()), error, responseExcerpt };
    this.done({ result, staleSocket: this.staleSocket });
  }

  /** The response's outcome once read (to its end, or as far as it is read). */
  read(): void {
    this.finish(...classify(this.response!.statusCode ?? 0), this.excerpt);
  }
}

type Deadline = "total" | "connect";

function armDeadline(exchange: Exchange, deadline: Deadline): void {
  const ms = deadline === "total" ? exchange.options.totalTimeoutMs : exchange.options.connectTimeoutMs;
  const timer = setTimeout(onDeadline, Math.max(1, ms - exchange.elapsedMs()), exchange, deadline);
  if (deadline === "total") exchange.totalTimer = timer;
  else exchange.connectTimer = timer;
}

// A timer may fire a little early: a deadline holds once its time has really passed.
function onDeadline(exchange: Exchange, deadline: Deadline): void {
  const { totalTimeoutMs, connectTimeoutMs } = exchange.options;
  if (exchange.elapsedMs() < (deadline === "total" ? totalTimeoutMs : connectTimeoutMs)) armDeadline(exchange, deadline);
  else if (deadline === "connect") exchange.finish("TIMEOUT", null, `connect timeout: not connected within ${connectTimeoutMs} ms`, null);
  else exchange.finish("TIMEOUT", exchange.response?.statusCode ?? null, `timeout: no complete response within ${totalTimeoutMs} ms`, null);
}

// A kept-alive socket is connected already: only a new one has a connect deadline.
function onSocket(this: ClientRequest & Carrying, socket: Socket & Carrying): void {
  const exchange = this[kExchange]!;
  if (!socket.connecting || exchange.settled) return;
  armDeadline(exchange, "connect");
  socket[kExchange] = exchange;
  socket.once("connect", onConnect);
}

function onConnect(this: Socket & Carrying): void {
  const exchange = this[kExchange];
  this[kExchange] = undefined; // the socket may be kept for other attempts
  if (exchange) clearTimeout(exchange.connectTimer);
}

function onClientError(this: ClientRequest & Carrying, error: NodeJS.ErrnoException & { reason?: string }): void {
  const exchange = this[kExchange]!;
  if (error.code === privateAddressErrorCode) {
    exchange.finish("REFUSED_ADDRESS", null, error.message, null);
    return;
  }
  // OpenSSL's messages run to a source file and line; its reason is what says it ("wrong version number").
  const tls = error.reason ?? /:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/i.exec(error.message)?.[1];
  const reason = tls ? `TLS ${tls}` : error.message || error.code || "unknown error";
  if (exchange.pooled && this.reusedSocket && !exchange.response && staleSocketCodes.has(error.code ?? "")) exchange.staleSocket = true;
  exchange.finish("CONNECT_ERROR", null, `connection failed: ${reason.split("\n")[0]!.slice(0, 200)}`, null);
}

function onResponse(this: ClientRequest & Carrying, incoming: IncomingMessage & Carrying): void {
  const exchange = this[kExchange]!;
  exchange.response = incoming;
  exchange.decoder = new StringDecoder("utf8");
  incoming[kExchange] = exchange;
  incoming.on("data", onData);
  incoming.on("end", onEnd);
  incoming.on("error", onResponseStop); // cut off mid-body: the status still says how it went
  incoming.on("close", onResponseStop);
  if (exchange.bytesLeft <= 0) exchange.read();
}

function onData(this: IncomingMessage & Carrying, chunk: Buffer): void {
  const exchange = this[kExchange]!;
  exchange.excerpt += exchange.decoder!.write(chunk.subarray(0, exchange.bytesLeft));
  exchange.bytesLeft -= Math.min(exchange.bytesLeft, chunk.length);
  if (exchange.bytesLeft === 0) exchange.read(); // enough: the rest is not read, the connection is closed
}

function onEnd(this: IncomingMessage & Carrying): void {
  const exchange = this[kExchange]!;
  exchange.complete = true;
  exchange.read();
}

function onResponseStop(this: IncomingMessage & Carrying): void {
  this[kExchange]!.read();
}

function classify(statusCode: number): [AttemptOutcome, number, string | null] {
  if (statusCode >= 200 && statusCode < 300) return ["SUCCESS", statusCode, null];
  if (statusCode === 410) return ["GONE", statusCode, "HTTP 410: the receiver says the endpoint is gone"];
  if (statusCode >= 300 && statusCode < 400) return ["HTTP_ERROR", statusCode, `HTTP ${statusCode}: redirects are not followed`];
  return ["HTTP_ERROR", statusCode, `HTTP ${statusCode}`];
}
