// The HTTP server (node:http, no framework): /graphql through Apollo, /healthz and /readyz for
// probes, /metrics for Prometheus, and the built browser apps at /graphiql/ and /dashboard/.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import type { Limits } from "../domain/limits.js";
import { onCommitted } from "../db/commit-signal.js";
import { databaseUnavailableMessage, isDatabaseUnavailable, retryAfterSeconds } from "../db/unavailable.js";
import { createApollo, formatError, schema } from "../graphql/apollo.js";
import { databaseUnavailableExtensions } from "../graphql/errors.js";
import { graphqlCjs } from "../graphql/graphql-cjs.js";
import { observePlugin } from "../graphql/observe-plugin.js";
import { startChangeFeed } from "../live/feed.js";
import { feedLog } from "../live/feed-log.js";
import { liveOptionsDefault, type LiveOptions } from "../live/options.js";
import { createLiveHub, type LiveHub } from "../live/hub.js";
import { operationPolicy } from "../graphql/operation-check.js";
import { startSocketServer, type SocketServer } from "../graphql/ws-transport.js";
import { createContext, type Context } from "../graphql/context.js";
import { bearerOf, createAuthenticator, loadTokenSecret } from "../ledger/access-tokens.js";
import { errorText, log } from "../ops/log.js";
import { webhookKey, type WebhookContext } from "../webhooks/endpoints.js";
import { webhookSettingsOf, type WebhookSettings } from "../webhooks/settings.js";
import { startWebhookThread, type WebhookThread } from "../webhooks/thread.js";
import {
  changeFeedEntries,
  changeFeedLag,
  changeFeedLooks,
  clientMistakes,
  graphqlErrors,
  httpRequests,
  httpRequestsInFlight,
  observe,
  processMetricsText,
  registry,
} from "../ops/metrics.js";
import { createReadinessCheck, type Readiness } from "../ops/readiness.js";
import { createRateLimiter } from "../ops/rate-limits.js";
import { attachRequestInfo, requestIdFrom, type RequestInfo } from "./request-info.js";
import { RequestError, sendError, sendJson } from "./responses.js";
import { serveWebApp, type WebApp } from "./static-files.js";

export const requestBytesMax = 1024 * 1024;

const logger = log.child({ component: "http" });

export interface ServiceOptions {
  db: Database;
  limits: Limits;
  production: boolean;
  port: number;
  host?: string;
  authCacheMs?: number;
  /** Signs access tokens; null: a secret made once and kept in the database (service_secrets). */
  accessTokenSecret?: string | null;
  /** Serve GraphiQL at /graphiql/ (default: not in production). */
  graphiql?: boolean;
  /** Serve the example dashboard at /dashboard/ (default: not in production). */
  dashboard?: boolean;
  /** Answer introspection queries over HTTP and WebSocket (default: not in production). */
  introspection?: boolean;
  /** Subscriptions: change-feed timing and WebSocket settings (defaults: src/config.ts). */
  live?: Partial<LiveOptions>;
  /** Longest a graceful stop waits for requests and socket operations in flight (default 10 s). */
  drainTimeoutMs?: number;
  /** Serve /metrics (default true); `metricsText` replaces this process's registry (cluster: the whole service). */
  metrics?: boolean;
  metricsText?: () => Promise<string>;
  /** How long /readyz waits for the database (default 1 s). */
  readyTimeoutMs?: number;
  /** Per API key, per second (0: off): mutations, and new WebSocket connections. */
  mutationsPerSecondMax?: number;
  connectionsPerSecondMax?: number;
  /** Open WebSocket connections on this instance, and per tenant on it (0: no cap). */
  webSocketConnectionsMax?: number;
  webSocketConnectionsPerTenantMax?: number;
  /** Webhooks: the settings of the endpoint calls, and whether this instance runs the worker (default: off). */
  webhooks?: WebhookSettings;
}

export type { LiveOptions };

export interface Service {
  url: string;
  port: number;
  httpServer: Server;
  hub: LiveHub;
  sockets: SocketServer;
  readiness(): Promise<Readiness>;
  /** This instance's webhook worker (null unless webhooks.enabled). */
  webhooks(): WebhookThread | null;
  /**
   * Graceful: /readyz turns 503, the listener closes, requests and socket operations in flight
   * finish (at most drainTimeoutMs), sockets close with 1001, then the change feed stops.
   * Resolves with drained: false when the timeout cut something.
   */
  stop(drainTimeoutMs?: number): Promise<{ drained: boolean }>;
}

/** The port is taken, or may not be used: a one-line message that says what to do. */
export class ListenError extends Error {
  override readonly name = "ListenError";
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > requestBytesMax) throw new RequestError(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${requestBytesMax} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const unauthenticated = (message: string) =>
  new graphqlCjs.GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });

const databaseUnavailable = () =>
  new graphqlCjs.GraphQLError(databaseUnavailableMessage, {
    extensions: {
      ...databaseUnavailableExtensions,
      http: { status: 503, headers: new HeaderMap([["retry-after", String(retryAfterSeconds)]]) },
    },
  });

function routeOf(pathname: string, webApps: readonly WebApp[]): string {
  if (["/graphql", "/metrics", "/healthz", "/readyz"].includes(pathname)) return pathname.slice(1);
  return pathname === "/" || webApps.some((a) => pathname.startsWith(`/${a.name}`)) ? "web" : "other";
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { db, limits } = options;
  const drainTimeoutDefaultMs = options.drainTimeoutMs ?? 10_000;
  const tokenSecret = await loadTokenSecret(db, options.accessTokenSecret ?? null);
  const authenticate = createAuthenticator(db, tokenSecret, options.authCacheMs);
  const webhookSettings = options.webhooks ?? webhookSettingsOf({ enabled: false });
  const webhooks: WebhookContext = { settings: webhookSettings, limits, key: await webhookKey(db, webhookSettings.encryptionKey) };
  const httpServer = createServer();
  const live = { ...liveOptionsDefault, ...options.live };
  let feedError: Error | null = null;
  const feed = startChangeFeed({
    ...live,
    connectionString: db.connectionString,
    onLook(error) {
      feedError = error;
      changeFeedLooks.inc({ outcome: error ? "failed" : "ok" });
      if (!error) feedLog.recovered();
    },
  });
  const stopSignal = onCommitted(db.pool, () => feed.written());
  const hub = createLiveHub(db, feed);
  const unobserveFeed = feed.listen(
    (entries) => {
      changeFeedEntries.inc(entries.length);
      const now = Date.now();
      for (const { entry } of entries) {
        const at = new Date(entry.createdAt as unknown as string).getTime();
        if (Number.isFinite(at)) changeFeedLag.observe(Math.max(0, now - at) / 1000);
      }
    },
    () => false,
  );
  const unobserveHub = observe("subscriptions", () => hub.subscriptionCount());
  let draining = false;
  const readinessCheck = createReadinessCheck({
    connectionString: db.connectionString,
    timeoutMs: options.readyTimeoutMs ?? 1000,
    feedProblem: () => (feedError ? `failing: ${errorText(feedError)}` : null),
    draining: () => draining,
  });
  const introspection = options.introspection ?? !options.production;
  const webApps: WebApp[] = [
    ...((options.graphiql ?? !options.production) ? [{ name: "graphiql" }] : []),
    ...((options.dashboard ?? !options.production) ? [{ name: "dashboard" }] : []),
  ];
  const policy = operationPolicy(limits, createRateLimiter("mutations", options.mutationsPerSecondMax ?? 0));
  const apollo = createApollo({ policy, production: options.production, introspection, plugins: [observePlugin()] });
  await apollo.start();

  async function contextFor(request: IncomingMessage): Promise<Context> {
    const bearer = bearerOf(request.headers.authorization);
    if (!bearer) throw unauthenticated("send Authorization: Bearer <API key or access token>");
    let access: Access | null;
    try {
      access = await authenticate(bearer);
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw databaseUnavailable();
      throw error;
    }
    if (!access) throw unauthenticated("unknown, revoked or expired API key or access token");
    return createContext(db, access, limits, { tokenSecret, webhooks });
  }

  const metricsText = options.metrics === false ? null : (options.metricsText ?? processMetricsText);
  const routes: Routes = {
    healthz: (_request, response) => sendJson(response, 200, { status: "ok" }),
    readyz: async (_request, response) => {
      const readiness = await readinessCheck.check();
      if (!readiness.ready) response.setHeader("retry-after", String(retryAfterSeconds));
      sendJson(response, readiness.ready ? 200 : 503, { status: readiness.status, checks: readiness.checks });
    },
    metrics:
      metricsText &&
      (async (_request, response) => {
        const text = await metricsText();
        response.writeHead(200, { "content-type": registry.contentType });
        response.end(text);
      }),
  };

  let inFlight = 0;
  httpServer.on("request", (request, response) => {
    const started = performance.now();
    const url = new URL(request.url ?? "/", "http://localhost");
    const route = routeOf(url.pathname, webApps);
    const info: RequestInfo = {
      requestId: requestIdFrom(request.headers["x-request-id"]),
      tenantId: null,
      operationName: null,
      operation: null,
      errorCodes: [],
    };
    response.setHeader("x-request-id", info.requestId);
    if (draining) response.setHeader("connection", "close"); // let keep-alive clients move on
    inFlight++;
    httpRequestsInFlight.inc();
    response.once("close", () => {
      inFlight--;
      httpRequestsInFlight.dec();
      const status = response.writableFinished ? response.statusCode : 499; // 499: the client went away
      httpRequests.inc({ route, status: String(status) });
      logRequest(request, route, status, info, performance.now() - started);
    });
    handle(apollo, contextFor, webApps, routes, info, url, request, response).catch((error: unknown) => {
      if (error instanceof RequestError) {
        clientMistakes.inc({ kind: error.code.toLowerCase() });
        graphqlErrors.inc({ transport: "http", code: error.code });
        info.errorCodes = [error.code];
        // The rest of the body may be unread: close the connection rather than reuse it.
        response.setHeader("connection", "close");
        return sendError(response, error);
      }
      if (request.destroyed || (error as { code?: string }).code === "ECONNRESET") {
        clientMistakes.inc({ kind: "aborted_request" });
        return response.destroy();
      }
      logger.error({ requestId: info.requestId, err: error }, "request failed");
      info.errorCodes = ["INTERNAL_SERVER_ERROR"];
      if (!response.headersSent) sendError(response, new RequestError(500, "INTERNAL_SERVER_ERROR", "Internal server error"));
      else response.destroy();
    });
  });

  const sockets = startSocketServer({
    httpServer,
    schema,
    db,
    limits,
    hub,
    production: options.production,
    introspection,
    authenticate,
    tokenSecret,
    webhooks,
    connectionInitWaitTimeoutMs: live.connectionInitWaitTimeoutMs,
    authRecheckMs: live.authRecheckMs,
    slowConsumerMs: live.slowConsumerMs,
    messageBytesMax: requestBytesMax,
    formatError: (error) => formatError(error.toJSON(), error, options.production),
    policy,
    connectionLimiter: createRateLimiter("connections", options.connectionsPerSecondMax ?? 0),
    connectionsMax: options.webSocketConnectionsMax ?? 0,
    connectionsPerTenantMax: options.webSocketConnectionsPerTenantMax ?? 0,
  });

  // Started last: a failed start leaves nothing running.
  let webhookThread: WebhookThread | null = null;

  async function stopWorkers(): Promise<void> {
    // In-flight deliveries finish and are recorded (their lease would hand them on otherwise).
    await webhookThread?.stop();
    stopSignal();
    unobserveFeed();
    unobserveHub();
    await feed.stop();
    await readinessCheck.close();
  }

  /** A start that failed part way: closes what was opened, and fails with its error. */
  async function abandon(error: unknown): Promise<never> {
    await Promise.allSettled([sockets.close(0), apollo.stop()]);
    if (httpServer.listening) httpServer.close();
    await stopWorkers();
    throw error;
  }

  await listen(httpServer, options.port, options.host ?? "0.0.0.0").catch(abandon);
  const { port } = httpServer.address() as AddressInfo;
  if (webhookSettings.enabled) webhookThread = await startWebhookThread(db, webhookSettings, webhooks.key).catch(abandon);
  return {
    url: `http://localhost:${port}/graphql`,
    port,
    httpServer,
    hub,
    sockets,
    readiness: () => readinessCheck.check(),
    webhooks: () => webhookThread,
    async stop(drainTimeoutMs = drainTimeoutDefaultMs) {
      draining = true;
      const deadline = Date.now() + drainTimeoutMs;
      httpServer.close(); // no new connections
      httpServer.closeIdleConnections();
      const httpDrained = (async () => {
        while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        return inFlight === 0;
      })();
      const [httpDone, socketsDone] = await Promise.all([httpDrained, sockets.close(Math.max(0, deadline - Date.now()))]);
      httpServer.closeAllConnections();
      await apollo.stop();
      await stopWorkers();
      return { drained: httpDone && socketsDone };
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new ListenError(
            `port ${port} on ${host} is already in use (an earlier ledger still running, or another program): stop it, or set PORT to a free port`,
          ),
        );
      } else if (error.code === "EACCES") {
        reject(new ListenError(`not allowed to listen on port ${port} on ${host}: set PORT to a port above 1023`));
      } else reject(error);
    };
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      resolve();
    });
  });
}

function logRequest(request: IncomingMessage, route: string, status: number, info: RequestInfo, durationMs: number): void {
  const fields = {
    requestId: info.requestId,
    method: request.method,
    route,
    status,
    durationMs: Math.round(durationMs * 10) / 10,
    ...(info.tenantId ? { tenantId: info.tenantId } : {}),
    ...(info.operation ? { operation: info.operation } : {}),
    ...(info.operationName ? { operationName: info.operationName.slice(0, 100) } : {}),
    ...(info.errorCodes.length ? { errorCodes: info.errorCodes } : {}),
    outcome: status >= 500 ? "server_error" : status >= 400 || info.errorCodes.length ? "client_error" : "ok",
  };
  // Probes, scrapes and static files would drown the requests that matter.
  if (route === "graphql") logger.info(fields, "request");
  else logger.debug(fields, "request");
}

type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
interface Routes {
  healthz: RouteHandler;
  readyz: RouteHandler;
  metrics: RouteHandler | null;
}

async function handle(
  apollo: ApolloServer<Context>,
  contextFor: (request: IncomingMessage) => Promise<Context>,
  webApps: readonly WebApp[],
  routes: Routes,
  info: RequestInfo,
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const named =
    url.pathname === "/healthz"
      ? routes.healthz
      : url.pathname === "/readyz"
        ? routes.readyz
        : url.pathname === "/metrics"
          ? routes.metrics
          : null;
  if (named) return named(request, response);
  const app = webApps.find((a) => url.pathname === `/${a.name}` || url.pathname.startsWith(`/${a.name}/`));
  if (app && (request.method === "GET" || request.method === "HEAD")) return serveWebApp(app, url.pathname, response);
  if (url.pathname === "/" && webApps.length > 0) {
    response.writeHead(302, { location: `/${webApps[0]!.name}/` });
    response.end();
    return;
  }
  if (url.pathname !== "/graphql") throw new RequestError(404, "NOT_FOUND", `not found: ${url.pathname} (GraphQL is at /graphql)`);

  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const text = request.method === "POST" ? await readBody(request) : "";
  let body: unknown = text;
  if (text && (headers.get("content-type") ?? "").includes("application/json")) {
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new RequestError(400, "BAD_REQUEST", `request body is not valid JSON: ${(error as Error).message}`);
    }
  }

  const httpGraphQLRequest = { method: request.method ?? "GET", headers, search: url.search, body };
  attachRequestInfo(httpGraphQLRequest, info);
  const result = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => contextFor(request) });
  const responseHeaders: Record<string, string> = {};
  for (const [name, value] of result.headers) responseHeaders[name] = value;
  const status = result.status ?? 200;
  if (status >= 400 && info.errorCodes.length === 0) {
    // Answered before Apollo's pipeline (and its plugin) ran: a context failure (401, 503).
    info.errorCodes = errorCodesOf(result.body);
    for (const code of info.errorCodes) graphqlErrors.inc({ transport: "http", code });
  }
  response.writeHead(status, responseHeaders);
  if (result.body.kind === "complete") {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}

/** Codes of an answer Apollo gave before the plugin saw it (context failures: 401, 503). */
function errorCodesOf(body: { kind: string; string?: string }): string[] {
  try {
    const parsed = JSON.parse(body.string ?? "") as { errors?: { extensions?: { code?: string } }[] };
    return (parsed.errors ?? []).map((e) => e.extensions?.code ?? "UNKNOWN");
  } catch {
    return [];
  }
}
