// One webhook delivery attempt: a POST to a tenant's URL, bounded in every way a remote server
// could hold the ledger up (connect time, total time, response size), to an address checked at
// connect time (url-safety.ts), never following a redirect (which could lead anywhere). Whatever
// happens, it resolves with what happened, for the delivery log and the retry schedule: it never
// throws, and leaves no socket or timer behind.
//
// agent: false, a fresh connection per attempt: deliveries go to many hosts, most rarely, so a
// keep-alive pool would mostly hold idle sockets, and a pooled socket would carry one attempt's
// state (a half-read response, a slow peer) into the next. The cost is a handshake per attempt.
import { type ClientRequest, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
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

export function sendWebhook(request: WebhookRequest, options: SendOptions): Promise<AttemptResult> {
  const startedAt = performance.now();
  const elapsedMs = () => performance.now() - startedAt;
  return new Promise((resolve) => {
    const cancels: (() => void)[] = [];
    let client: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    let settled = false;
    const finish = (outcome: AttemptOutcome, statusCode: number | null, error: string | null, responseExcerpt: string | null) => {
      if (settled) return;
      settled = true;
      for (const cancel of cancels) cancel();
      response?.destroy();
      client?.destroy();
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
        agent: false,
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
      incoming.on("end", done);
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
