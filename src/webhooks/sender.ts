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
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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

/** One attempt; with `pool`, on a kept-alive connection when there is one (else a fresh connection, closed after). */
export async function sendWebhook(request: WebhookRequest, options: SendOptions, pool?: ConnectionPool): Promise<AttemptResult> {
  const startedAt = performance.now();
  const first = await sendOnce(request, options, startedAt, pool);
  if (!first.staleSocket) return first.result;
  return (await sendOnce(request, options, startedAt)).result;
}

function sendOnce(
  request: WebhookRequest,
  options: SendOptions,
  startedAt: number,
  pool?: ConnectionPool,
): Promise<{ result: AttemptResult; staleSocket: boolean }> {
  const elapsedMs = () => performance.now() - startedAt;
  let staleSocket = false;
  return new Promise((done) => {
    const resolve = (result: AttemptResult) => done({ result, staleSocket });
    const cancels: (() => void)[] = [];
    let client: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    let settled = false;
    let complete = false;
    const finish = (outcome: AttemptOutcome, statusCode: number | null, error: string | null, responseExcerpt: string | null) => {
      if (settled) return;
      settled = true;
      for (const cancel of cancels) cancel();
      // Kept for the next attempt only when its response was read to the end.
      if (!(complete && response?.complete)) {
        response?.destroy();
        client?.destroy();
      }
      resolve({ outcome, statusCode, durationMs: Math.round(elapsedMs()), error, responseExcerpt });
    };
    // Calls onExpiry once `ms` have really passed since the start (a timer alone may fire a little early).
    const deadline = (ms: number, onExpiry: () => void): (() => void) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        timer = setTimeout(() => (elapsedMs() >= ms ? onExpiry() : arm()), Math.max(1, ms - elapsedMs()));
      };
      arm();
      const cancel = () => clearTimeout(timer);
      cancels.push(cancel);
      return cancel;
    };

    const checked = checkWebhookUrl(request.url, options.allowPrivate);
    if (!checked.ok) return finish("REFUSED_ADDRESS", null, checked.message, null);
    const body = Buffer.from(request.body, "utf8");
    try {
      client = (checked.url.protocol === "https:" ? httpsRequest : httpRequest)(checked.url, {
        method: "POST",
        agent: pool ? pool.agentFor(checked.url.protocol, options.allowPrivate) : false,
        lookup: guardedLookup(options.allowPrivate),
        headers: {
          ...request.headers,
          "content-type": "application/json",
          "content-length": String(body.length),
          "user-agent": webhookUserAgent,
        },
      });
    } catch (error) {
      // Only a header name or value Node refuses (a control character) throws here.
      return finish(
        "CONNECT_ERROR",
        null,
        `the request could not be made (${(error as { code?: string }).code ?? "invalid request"})`,
        null,
      );
    }

    deadline(options.totalTimeoutMs, () =>
      finish("TIMEOUT", response?.statusCode ?? null, `timeout: no complete response within ${options.totalTimeoutMs} ms`, null),
    );
    const connected = deadline(options.connectTimeoutMs, () =>
      finish("TIMEOUT", null, `connect timeout: not connected within ${options.connectTimeoutMs} ms`, null),
    );
    client.once("socket", (socket) => {
      if (socket.connecting) socket.once("connect", connected);
      else connected();
    });

    client.on("error", (error: NodeJS.ErrnoException & { reason?: string }) => {
      if (error.code === privateAddressErrorCode) return finish("REFUSED_ADDRESS", null, error.message, null);
      // OpenSSL's messages run to a source file and line; its reason is what says it ("wrong version number").
      const tls = error.reason ?? /:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/i.exec(error.message)?.[1];
      const reason = tls ? `TLS ${tls}` : error.message || error.code || "unknown error";
      if (pool && client?.reusedSocket && !response && staleSocketCodes.has(error.code ?? "")) staleSocket = true;
      finish("CONNECT_ERROR", null, `connection failed: ${reason.split("\n")[0]!.slice(0, 200)}`, null);
    });

    client.on("response", (incoming) => {
      response = incoming;
      const statusCode = incoming.statusCode ?? 0;
      const decoder = new StringDecoder("utf8");
      let excerpt = "";
      let bytesLeft = options.responseBytesMax;
      const done = () => finish(...classify(statusCode), excerpt);
      incoming.on("data", (chunk: Buffer) => {
        excerpt += decoder.write(chunk.subarray(0, bytesLeft));
        bytesLeft -= Math.min(bytesLeft, chunk.length);
        if (bytesLeft === 0) done(); // enough: the rest is not read, the connection is closed
      });
      incoming.on("end", () => {
        complete = true;
        done();
      });
      incoming.on("error", done); // cut off mid-body: the status still says how it went
      incoming.on("close", done);
      if (bytesLeft <= 0) done();
    });

    client.end(body);
  });
}

function classify(statusCode: number): [AttemptOutcome, number, string | null] {
  if (statusCode >= 200 && statusCode < 300) return ["SUCCESS", statusCode, null];
  if (statusCode === 410) return ["GONE", statusCode, "HTTP 410: the receiver says the endpoint is gone"];
  if (statusCode >= 300 && statusCode < 400) return ["HTTP_ERROR", statusCode, `HTTP ${statusCode}: redirects are not followed`];
  return ["HTTP_ERROR", statusCode, `HTTP ${statusCode}`];
}
