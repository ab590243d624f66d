// graphql-ws on the HTTP server's /graphql: authentication in connection_init, the same limits
// as HTTP operations, a bounded queue per connection, revocation, and a graceful close.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { ExecutionArgs, GraphQLError as GraphQLErrorType, GraphQLFormattedError, GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import type { Limits } from "../domain/limits.js";
import { bearerOf, type Authenticate } from "../ledger/access-tokens.js";
import { createContext } from "../graphql/context.js";
import { graphqlCjs } from "../graphql/graphql-cjs.js";
import { armorProtection, checkVariableLimits } from "../graphql/limits-plugin.js";
import type { LiveHub } from "./hub.js";
import { createLiveConnection, slowConsumerCloseCode, type LiveConnection } from "./live-connection.js";

// The schema's own graphql build: errors must be its GraphQLError for graphql-ws to send them.
const { execute, GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate } = graphqlCjs;
type GraphQLError = GraphQLErrorType;

export const unauthorizedCloseCode = 4401;

export interface SocketOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  db: Database;
  limits: Limits;
  hub: LiveHub;
  production: boolean;
  /** Answer introspection queries (else refused in validation, as over HTTP). */
  introspection: boolean;
  /** Resolves a bearer (API key or access token) to its access (null: unknown, revoked, expired). */
  authenticate: Authenticate;
  /** Signs access tokens minted over the socket. */
  tokenSecret: Buffer;
  /** How long a connection may stay without connection_init. */
  connectionInitWaitTimeoutMs: number;
  /** How often open connections' keys are checked again (revocation). */
  authRecheckMs: number;
  /** A socket whose outgoing buffer has not drained for this long is cut off (4029). */
  slowConsumerMs: number;
  /** Largest message a client may send. */
  messageBytesMax: number;
  /** How long a closed slow consumer may take to read its close frame before it is cut. */
  closeGraceMs?: number;
  formatError(error: GraphQLError): GraphQLFormattedError;
}

export interface SocketStats {
  /** Open connections (authenticated or not). */
  connections: number;
  /** Connections closed as slow consumers since the start. */
  slowConsumersCut: number;
  /** The most events any one connection had queued at once. */
  eventsQueuedPeak: number;
}

export interface SocketServer {
  stats(): SocketStats;
  /** Stops accepting, waits for running queries and mutations, then closes every socket with 1001. */
  close(drainMs?: number): Promise<void>;
}

interface ConnectionState {
  bearer: string;
  access: Access;
  live: LiveConnection;
  operations: number;
}

export function startSocketServer(options: SocketOptions): SocketServer {
  const { db, limits, hub, schema } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.messageBytesMax });
  const states = new WeakMap<WebSocket, ConnectionState>();
  const rules = [
    ...specifiedRules,
    ...armorProtection(limits).validationRules,
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
  let stopping = false;
  let running = 0;
  let slowConsumersCut = 0;
  let eventsQueuedPeak = 0;
  /** Since when each socket's outgoing buffer has stayed non-empty. */
  const stalledSince = new WeakMap<WebSocket, number>();

  /** An access token's connection ends when the token does, not at the next recheck. */
  function closeAtExpiry(socket: WebSocket, expiresAt: Date): void {
    const delayMs = expiresAt.getTime() - Date.now();
    if (delayMs > 2 ** 31 - 1) return; // beyond a timer's range: the periodic recheck closes it
    const timer = setTimeout(() => cut(socket, unauthorizedCloseCode, "Unauthorized: access token expired"), Math.max(0, delayMs));
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }

  function cutSlow(socket: WebSocket, reason: string): void {
    slowConsumersCut++;
    cut(socket, slowConsumerCloseCode, `Slow consumer: ${reason}; resubscribe with afterVersion`);
  }

  function cut(socket: WebSocket, code: number, reason: string): void {
    socket.close(code, reason);
    // A consumer that does not read never answers the close frame: do not wait for it.
    setTimeout(() => socket.terminate(), options.closeGraceMs ?? 2000).unref();
  }

  const server = useServer<Record<string, unknown>>({
    isProd: options.production,
    connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs,
    async onConnect(ctx) {
      const socket = ctx.extra.socket;
      // connection_init's payload: { authorization: "Bearer <API key or access token>" }.
      const bearer = bearerOf(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization);
      const access = bearer ? await options.authenticate(bearer) : null;
      if (!bearer || !access) {
        socket.close(unauthorizedCloseCode, bearer
          ? "Unauthorized: unknown, revoked or expired API key or access token"
          : "Unauthorized: send { authorization: \"Bearer <API key or access token>\" } in connection_init");
        return false;
      }
      if (access.expiresAt) closeAtExpiry(socket, access.expiresAt);
      const live = createLiveConnection(limits.subscriptionEventsQueuedMax, () => cutSlow(socket, "too many events queued"), (depth) => {
        if (depth > eventsQueuedPeak) eventsQueuedPeak = depth;
      });
      states.set(socket, { bearer, access, live, operations: 0 });
      return true;
    },
    onSubscribe(ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] {
      const state = states.get(ctx.extra.socket);
      if (!state) return [new GraphQLError("not authenticated")]; // graphql-ws closes 4401 before this
      if (state.operations >= limits.subscriptionsPerConnectionMax) {
        return [new GraphQLError(`operations on this connection exceed subscriptionsPerConnectionMax (${limits.subscriptionsPerConnectionMax})`, {
          extensions: { code: "LIMIT_EXCEEDED", limit: "subscriptionsPerConnectionMax", max: limits.subscriptionsPerConnectionMax },
        })];
      }
      let document;
      try {
        document = parse(payload.query, { maxTokens: limits.queryTokensMax });
      } catch (error) {
        return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors;
      const variables = (payload.variables ?? {}) as Record<string, unknown>;
      try {
        checkVariableLimits(limits, schema, document, variables);
      } catch (error) {
        // Rebuilt in the schema's graphql build, without the HTTP status meant for Apollo.
        const { http: _status, ...extensions } = (error as GraphQLError).extensions ?? {};
        return [new GraphQLError((error as Error).message, { extensions })];
      }
      state.operations++;
      return {
        schema,
        document,
        variableValues: variables,
        operationName: payload.operationName ?? undefined,
        contextValue: createContext(db, state.access, limits, { live: hub, connection: state.live, tokenSecret: options.tokenSecret }),
      };
    },
    // Queries and mutations over the socket: counted, so a shutdown lets them finish.
    async execute(args) {
      running++;
      try {
        return await execute(args);
      } finally {
        running--;
      }
    },
    onComplete(ctx) {
      const state = states.get(ctx.extra.socket);
      if (state) state.operations--;
    },
    onNext(_ctx, _id, _payload, _args, result) {
      if (!result.errors) return;
      return { ...result, errors: result.errors.map((error) => options.formatError(error)) };
    },
  }, wss);

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (stopping || path !== "/graphql") {
      socket.end(`HTTP/1.1 ${stopping ? "503 Service Unavailable" : "404 Not Found"}\r\nconnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  }
  options.httpServer.on("upgrade", onUpgrade);

  // Revocation: bearers of open connections are checked again; a revoked key's sockets close,
  // and so do the sockets of the tokens it minted.
  const recheck = setInterval(() => {
    for (const socket of wss.clients) {
      const state = states.get(socket);
      if (!state) continue;
      options.authenticate(state.bearer).then((access) => {
        if (access?.tenantId !== state.access.tenantId) cut(socket, unauthorizedCloseCode, "Unauthorized: API key revoked or access token expired");
      }, (error: Error) => console.error("subscription auth recheck:", error.message));
    }
  }, options.authRecheckMs);
  recheck.unref();

  // Slow consumers: graphql-ws waits for each send to drain before taking the next event, so a
  // client that stops reading shows as an outgoing buffer that never empties.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const socket of wss.clients) {
      if (socket.bufferedAmount === 0 || socket.readyState !== socket.OPEN) {
        stalledSince.delete(socket);
        continue;
      }
      const since = stalledSince.get(socket);
      if (since === undefined) stalledSince.set(socket, now);
      else if (now - since >= options.slowConsumerMs) cutSlow(socket, `nothing read for ${options.slowConsumerMs} ms`);
    }
  }, Math.max(10, Math.min(1000, options.slowConsumerMs / 4)));
  sweep.unref();

  return {
    stats: () => ({ connections: wss.clients.size, slowConsumersCut, eventsQueuedPeak }),
    async close(drainMs = 10_000) {
      stopping = true;
      clearInterval(recheck);
      clearInterval(sweep);
      const deadline = Date.now() + drainMs;
      while (running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      options.httpServer.off("upgrade", onUpgrade);
      await server.dispose(); // closes every socket with 1001 "Going away"
    },
  };
}
