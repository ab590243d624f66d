// The HTTP server (node:http, no framework): /graphql through Apollo, /healthz for probes, and
// the built browser apps at /graphiql/ and /dashboard/ when enabled.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { GraphQLError } from "graphql";
import type { Database } from "../db/client.js";
import type { Limits } from "../domain/limits.js";
import { onCommitted } from "../db/commit-signal.js";
import { createApollo, formatError, schema } from "../graphql/apollo.js";
import { startChangeFeed } from "../live/feed.js";
import { liveOptionsDefault, type LiveOptions } from "../live/options.js";
import { createLiveHub, type LiveHub } from "../live/hub.js";
import { startSocketServer, type SocketServer } from "../live/socket.js";
import { createContext, type Context } from "../graphql/context.js";
import { bearerOf, createAuthenticator, loadTokenSecret } from "../ledger/access-tokens.js";
import { serveWebApp, type WebApp } from "./static-files.js";

export const requestBytesMax = 1024 * 1024;

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
}

export type { LiveOptions };

export interface Service {
  url: string;
  port: number;
  httpServer: Server;
  hub: LiveHub;
  sockets: SocketServer;
  /**
   * Graceful: stops accepting connections, lets running requests and socket operations finish,
   * closes sockets with 1001, then stops the change feed.
   */
  stop(): Promise<void>;
}

class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > requestBytesMax) throw new RequestError(413, `request body exceeds ${requestBytesMax} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

const unauthenticated = (message: string) =>
  new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });

export async function startService(options: ServiceOptions): Promise<Service> {
  const { db, limits } = options;
  const tokenSecret = await loadTokenSecret(db.prisma, options.accessTokenSecret ?? null);
  const authenticate = createAuthenticator(db.prisma, tokenSecret, options.authCacheMs);
  const httpServer = createServer();
  const live = { ...liveOptionsDefault, ...options.live };
  const feed = startChangeFeed({ ...live, connectionString: db.connectionString });
  const stopSignal = onCommitted(db.pool, () => feed.written());
  const hub = createLiveHub(db, feed);
  const introspection = options.introspection ?? !options.production;
  const webApps: WebApp[] = [
    ...(options.graphiql ?? !options.production ? [{ name: "graphiql" }] : []),
    ...(options.dashboard ?? !options.production ? [{ name: "dashboard" }] : []),
  ];
  const apollo = createApollo({
    limits,
    production: options.production,
    introspection,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();

  async function contextFor(request: IncomingMessage): Promise<Context> {
    const bearer = bearerOf(request.headers.authorization);
    if (!bearer) throw unauthenticated("send Authorization: Bearer <API key or access token>");
    const access = await authenticate(bearer);
    if (!access) throw unauthenticated("unknown, revoked or expired API key or access token");
    return createContext(db, access, limits, { tokenSecret });
  }

  httpServer.on("request", (request, response) => {
    handle(apollo, contextFor, webApps, request, response).catch((error: unknown) => {
      if (error instanceof RequestError) {
        // The rest of the body is unread: close the connection rather than reuse it.
        response.setHeader("connection", "close");
        return sendJson(response, error.status, { errors: [{ message: error.message }] });
      }
      console.error("http:", error);
      if (!response.headersSent) sendJson(response, 500, { errors: [{ message: "Internal server error" }] });
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
    connectionInitWaitTimeoutMs: live.connectionInitWaitTimeoutMs,
    authRecheckMs: live.authRecheckMs,
    slowConsumerMs: live.slowConsumerMs,
    messageBytesMax: requestBytesMax,
    formatError: (error) => formatError(error.toJSON(), error, options.production),
  });

  await new Promise<void>((resolve) => httpServer.listen(options.port, options.host ?? "0.0.0.0", resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/graphql`,
    port,
    httpServer,
    hub,
    sockets,
    async stop() {
      // The drain plugin stops the listener and waits for HTTP requests; sockets drain alongside.
      await Promise.all([apollo.stop(), sockets.close()]);
      stopSignal();
      await feed.stop();
    },
  };
}

async function handle(
  apollo: ApolloServer<Context>,
  contextFor: (request: IncomingMessage) => Promise<Context>,
  webApps: readonly WebApp[],
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") return sendJson(response, 200, { status: "ok" });
  const app = webApps.find((a) => url.pathname === `/${a.name}` || url.pathname.startsWith(`/${a.name}/`));
  if (app && (request.method === "GET" || request.method === "HEAD")) return serveWebApp(app, url.pathname, response);
  if (url.pathname === "/" && webApps.length > 0) {
    response.writeHead(302, { location: `/${webApps[0]!.name}/` });
    response.end();
    return;
  }
  if (url.pathname !== "/graphql") return sendJson(response, 404, { errors: [{ message: "not found: use /graphql" }] });

  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const text = request.method === "POST" ? await readBody(request) : "";
  let body: unknown = text;
  if (text && (headers.get("content-type") ?? "").includes("application/json")) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new RequestError(400, "request body is not valid JSON");
    }
  }

  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method ?? "GET", headers, search: url.search, body },
    context: () => contextFor(request),
  });
  const responseHeaders: Record<string, string> = {};
  for (const [name, value] of result.headers) responseHeaders[name] = value;
  response.writeHead(result.status ?? 200, responseHeaders);
  if (result.body.kind === "complete") {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}
