// One webhook delivery attempt: a POST to a tenant's URL, bounded in every way a remote server
// could hold the ledger up (connect time, total time, response size), to an address checked at
// connect time (url-safety.ts), never following a redirect (which could lead anywhere). Whatever
// happens, it resolves with what happened, for the delivery log and the retry schedule: it never
// throws, and leaves no socket or timer behind.
//
// The HTTP client is undici (the one inside Node's fetch), through its dispatch API: at a
// thousand attempts a second, node:http's client cost the dispatcher about 2.5 times the CPU per
// request (docs/benchmarks.md, "the sender alone"). With a dispatcher's ConnectionPool, connections are kept alive
// between attempts to the same origin (a busy endpoint would otherwise pay a TCP and TLS handshake
// per event), but only after an attempt that read its whole response: any other ending (a
// timeout, a cut-off or oversized body, an error) aborts the request, which closes its
// connection, so no attempt's state is carried into the next. Idle connections are closed after
// a few seconds. An attempt whose connection the receiver closed or reset before any response (a
// kept one may have been closed as the request went out; undici does not say whether it was
// kept, so a new one counts too) is tried once more, within the same time budget.
import { Agent, Client, type Dispatcher } from "undici";
import { StringDecoder } from "node:string_decoder";
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
  /** Until the connection is made: name lookup, TCP and (https) the TLS handshake. */
  connectTimeoutMs: number;
  /** Until the response's status, headers and (limited) body are read. */
  totalTimeoutMs: number;
  /** How much of the response body is read and kept; the rest is not read. */
  responseBytesMax: number;
  /** Let private and local addresses through (tests, or a ledger whose receivers are on its own network). */
  allowPrivate: boolean;
}

export const webhookUserAgent = "graphql-ledger-webhooks/1";

/** How long an idle kept-alive connection stays open (below the 5 s that Node's and many servers' keep-alive timeouts give). */
const idleSocketMs = 4_000;

/** The two address policies' lookups, made once (every connection of that policy uses it). */
const lookups = { true: guardedLookup(true), false: guardedLookup(false) };

/** What a connection is made with: the policy's lookup, the connect timeout; no idle timers (the attempt's deadline bounds it). */
function connectionOptions(allowPrivate: boolean, connectTimeoutMs: number) {
  return {
    connect: { lookup: lookups[`${allowPrivate}`], timeout: connectTimeoutMs },
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: idleSocketMs,
    keepAliveMaxTimeout: idleSocketMs,
  };
}

/** Kept-alive connections of one dispatcher: an undici Agent per address policy and connect timeout. */
export interface ConnectionPool {
  dispatcherFor(allowPrivate: boolean, connectTimeoutMs: number): Dispatcher;
  /** Closes every connection, idle or not (a dispatcher whose attempts have all finished). */
  close(): Promise<void>;
}

export function connectionPool(): ConnectionPool {
  const agents = new Map<string, Agent>();
  return {
    dispatcherFor(allowPrivate, connectTimeoutMs) {
      const name = `${allowPrivate}:${connectTimeoutMs}`;
      let agent = agents.get(name);
      if (!agent) {
        agent = new Agent(connectionOptions(allowPrivate, connectTimeoutMs));
        agents.set(name, agent);
      }
      return agent;
    },
    async close() {
      const closing = [...agents.values()].map((agent) => agent.destroy());
      agents.clear();
      await Promise.all(closing);
    },
  };
}

/** Errors of a connection that the receiver closed or reset. */
const closedConnectionCodes = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/** One attempt; with `pool`, on a kept-alive connection when there is one (else a connection of its own, closed after). */
export async function sendWebhook(request: WebhookRequest, options: SendOptions, pool?: ConnectionPool): Promise<AttemptResult> {
  const startedAt = performance.now();
  const first = await sendOnce(request, options, startedAt, pool);
  if (!first.closedBeforeResponse || pool === undefined) return first.result;
  return (await sendOnce(request, options, startedAt, pool)).result;
}

/**
 * A URL's check and request target, by policy and URL: a busy endpoint's URL is parsed and
 * checked once, not per attempt (the check is a function of the text and the policy alone; the
 * addresses a name resolves to are checked at every connection, by the lookup).
 */
type Target = { ok: true; origin: string; path: string } | { ok: false; message: string };
const targets = new Map<string, Target>();
const targetsMax = 1_000;

function targetOf(url: string, allowPrivate: boolean): Target {
  const key = `${allowPrivate ? "+" : "-"}${url}`;
  let target = targets.get(key);
  if (target === undefined) {
    const checked = checkWebhookUrl(url, allowPrivate);
    target = checked.ok
      ? { ok: true, origin: checked.url.origin, path: `${checked.url.pathname}${checked.url.search}` }
      : { ok: false, message: checked.message };
    if (targets.size >= targetsMax) targets.clear();
    targets.set(key, target);
  }
  return target;
}

/** Headers the sender sets itself, whatever the given ones say (undici sets content-length from the body). */
const ownHeaders = new Set(["content-type", "content-length", "user-agent", "connection", "host", "transfer-encoding"]);

function headersOf(given: Record<string, string>): string[] {
  const flat: string[] = [];
  for (const name in given) if (!ownHeaders.has(name.toLowerCase())) flat.push(name, given[name]!);
  flat.push("content-type", "application/json", "user-agent", webhookUserAgent);
  return flat;
}

interface Sent {
  result: AttemptResult;
  /** The connection was closed or reset before any response: a kept one may have gone stale. */
  closedBeforeResponse: boolean;
}

function sendOnce(request: WebhookRequest, options: SendOptions, startedAt: number, pool?: ConnectionPool): Promise<Sent> {
  return new Promise((done) => {
    const target = targetOf(request.url, options.allowPrivate);
    if (!target.ok) {
      new Exchange(options, startedAt, null, done).finish("REFUSED_ADDRESS", null, target.message, null);
      return;
    }
    const own = pool ? null : new Client(target.origin, connectionOptions(options.allowPrivate, options.connectTimeoutMs));
    const exchange = new Exchange(options, startedAt, own, done);
    exchange.start(own ?? pool!.dispatcherFor(options.allowPrivate, options.connectTimeoutMs), {
      origin: target.origin,
      path: target.path,
      method: "POST",
      headers: headersOf(request.headers),
      body: Buffer.from(request.body, "utf8"),
      // A connection of its own says so (connection: close) and is not reused.
      reset: own !== null,
    });
  });
}

/** Why an attempt aborted its own request (never reported: the attempt has its outcome already). */
const settledAbort = new Error("the attempt has its outcome");

/**
 * One attempt's exchange, as undici's handler: its callbacks are methods, not closures made per
 * attempt. Finishes once, with the first outcome; anything later only tidies up.
 */
class Exchange implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | undefined;
  settled = false;
  closedBeforeResponse = false;
  timer: NodeJS.Timeout | undefined;
  statusCode: number | null = null;
  decoder: StringDecoder | undefined;
  excerpt = "";
  bytesLeft: number;

  constructor(
    readonly options: SendOptions,
    readonly startedAt: number,
    /** The connection of an attempt without a pool, closed when it finishes. */
    readonly own: Client | null,
    readonly done: (sent: Sent) => void,
  ) {
    this.bytesLeft = options.responseBytesMax;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  start(dispatcher: Dispatcher, request: Dispatcher.DispatchOptions): void {
    this.timer = setTimeout(onDeadline, Math.max(1, this.options.totalTimeoutMs - this.elapsedMs()), this);
    dispatcher.dispatch(request, this);
  }

  finish(outcome: AttemptOutcome, statusCode: number | null, error: string | null, responseExcerpt: string | null): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // Not read to its end (the controller is dropped at the end): aborted, which closes its connection.
    this.controller?.abort(settledAbort);
    if (this.own) void this.own.destroy();
    const result = { outcome, statusCode, durationMs: Math.round(this.elapsedMs()), error, responseExcerpt };
    this.done({ result, closedBeforeResponse: this.closedBeforeResponse });
  }

  /** The response's outcome, as far as it is read. */
  read(): void {
    this.finish(...classify(this.statusCode ?? 0), this.excerpt);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(settledAbort); // its deadline passed before it was sent
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    this.statusCode = statusCode;
    this.decoder = new StringDecoder("utf8");
    if (this.bytesLeft <= 0) this.read();
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.excerpt += this.decoder!.write(chunk.subarray(0, this.bytesLeft));
    this.bytesLeft -= Math.min(this.bytesLeft, chunk.length);
    if (this.bytesLeft === 0) this.read(); // enough: the rest is not read, the connection is closed
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.controller = undefined; // complete: its connection stays for the next attempt
    this.read();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: UndiciError): void {
    if (this.settled) return;
    if (this.statusCode !== null) {
      this.read(); // cut off mid-body: the status still says how it went
      return;
    }
    const [outcome, message] = failureOf(error, this.options.connectTimeoutMs);
    this.closedBeforeResponse = closedConnectionCodes.has(error.code ?? "");
    this.finish(outcome, null, message, null);
  }
}

type UndiciError = Error & { code?: string; reason?: string };

/** An attempt that got no response: its outcome and the reason recorded (never a header value). */
function failureOf(error: UndiciError, connectTimeoutMs: number): [AttemptOutcome, string] {
  if (error.code === privateAddressErrorCode) return ["REFUSED_ADDRESS", error.message];
  if (error.code === "UND_ERR_CONNECT_TIMEOUT") return ["TIMEOUT", `connect timeout: not connected within ${connectTimeoutMs} ms`];
  // A header name or value undici refuses (a control character): not echoed, it may hold a secret.
  if (error.code === "UND_ERR_INVALID_ARG") return ["CONNECT_ERROR", `the request could not be made (${error.code})`];
  // OpenSSL's messages run to a source file and line; its reason is what says it ("wrong version number").
  const tls = error.reason ?? /:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/i.exec(error.message)?.[1];
  const reason = tls ? `TLS ${tls}` : error.message || error.code || "unknown error";
  return ["CONNECT_ERROR", `connection failed: ${reason.split("\n")[0]!.slice(0, 200)}`];
}

// A timer may fire a little early: the deadline holds once its time has really passed.
function onDeadline(exchange: Exchange): void {
  const { totalTimeoutMs } = exchange.options;
  const left = totalTimeoutMs - exchange.elapsedMs();
  if (left > 0) exchange.timer = setTimeout(onDeadline, Math.max(1, left), exchange);
  else exchange.finish("TIMEOUT", exchange.statusCode, `timeout: no complete response within ${totalTimeoutMs} ms`, null);
}

function classify(statusCode: number): [AttemptOutcome, number, string | null] {
  if (statusCode >= 200 && statusCode < 300) return ["SUCCESS", statusCode, null];
  if (statusCode === 410) return ["GONE", statusCode, "HTTP 410: the receiver says the endpoint is gone"];
  if (statusCode >= 300 && statusCode < 400) return ["HTTP_ERROR", statusCode, `HTTP ${statusCode}: redirects are not followed`];
  return ["HTTP_ERROR", statusCode, `HTTP ${statusCode}`];
}
