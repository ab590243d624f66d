// graphql-ws on the HTTP server's /graphql: authentication in connection_init, the same limits
// as HTTP operations, a bounded queue per connection, revocation, and a graceful close.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { ExecutionArgs, GraphQLError as GraphQLErrorType, GraphQLFormattedError, GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocket, WebSocketServer } from "ws";
import { isDatabaseUnavailable } from "../db/unavailable.js";
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import type { Limits } from "../domain/limits.js";
import { bearerOf, type Authenticate } from "../ledger/access-tokens.js";
import type { LiveHub } from "../live/hub.js";
import { createLiveConnection, slowConsumerCloseCode, type LiveConnection } from "../live/live-connection.js";
import { requestIdFrom } from "../http/request-info.js";
import { errorText, log } from "../ops/log.js";
import { clientMistakes, observe, rateLimited, slowConsumerCutoffs, websocketCloses } from "../ops/metrics.js";
import type { RateLimiter } from "../ops/rate-limits.js";
import type { WebhookContext } from "../webhooks/endpoints.js";
import { createContext } from "./context.js";
import { limitRefusal } from "./errors.js";
import { graphqlCjs } from "./graphql-cjs.js";
import { checkOperation, type OperationPolicy } from "./operation-check.js";
import { recordOperation } from "./observe-plugin.js";

// The schema's own graphql build: errors must be its GraphQLError for graphql-ws to send them.
const { execute, GraphQLError } = graphqlCjs;
type GraphQLError = GraphQLErrorType;

export const unauthorizedCloseCode = 4401;
/** Too many connections for the tenant, or new connections for the key too fast: back off, then reconnect. */
export const tooManyConnectionsCloseCode = 4429;
/** Try again later (RFC 6455): the database is unavailable, or this instance is at its connection cap. */
export const tryAgainLaterCloseCode = 1013;
/** An unexpected server error (RFC 6455); logged on the server. */
export const internalErrorCloseCode = 1011;

const logger = log.child({ component: "websocket" });

/**
 * ws reports a peer's protocol violations (an oversized message, bad UTF-8 or framing) as
 * 'error' events after it has already closed the connection (1009, 1007, 1002); graphql-ws
 * would log each with a stack. They are the client's mistakes: counted, logged at debug.
 */
class LedgerWebSocket extends WebSocket {
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const error = args[0] as { code?: unknown } | undefined;
    if (event === "error" && typeof error?.code === "string" && error.code.startsWith("WS_ERR_")) {
      const kind = error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? "websocket_oversized_message" : "websocket_protocol_error";
      clientMistakes.inc({ kind });
      logger.debug({ err: errorText(error) }, kind);
      return true;
    }
    return super.emit(event, ...args);
  }
}

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
  webhooks: WebhookContext;
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
  /** The operation checks shared with HTTP (limits, the mutation rate). */
  policy: OperationPolicy;
  /** Per-key rate limit of new connections (null: off). */
  connectionLimiter?: RateLimiter | null;
  /** Most open connections on this instance, and per tenant on it (0: no cap). */
  connectionsMax?: number;
  connectionsPerTenantMax?: number;
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
  /**
   * Stops accepting connections and operations, waits (at most drainMs) for running queries and
   * mutations, then closes every socket with 1001. Resolves true when nothing was cut.
   */
  close(drainMs?: number): Promise<boolean>;
}

interface ConnectionState {
  connectionId: string;
  bearer: string;
  access: Access;
  live: LiveConnection;
  operations: number;
}

export function startSocketServer(options: SocketOptions): SocketServer {
  const { db, limits, hub, schema } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.messageBytesMax, WebSocket: LedgerWebSocket });
  const unobserve = observe("websocketConnections", () => wss.clients.size);
  const perTenant = new Map<string, number>();
  const states = new WeakMap<WebSocket, ConnectionState>();
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
    slowConsumerCutoffs.inc();
    cut(socket, slowConsumerCloseCode, `Slow consumer: ${reason}; resubscribe with afterVersion`);
  }

  function cut(socket: WebSocket, code: number, reason: string): void {
    socket.close(code, reason);
    // A consumer that does not read never answers the close frame: do not wait for it.
    setTimeout(() => socket.terminate(), options.closeGraceMs ?? 2000).unref();
  }

  /** Per-operation log and metric fields, by the operation's context. */
  const operations = new WeakMap<
    object,
    { requestId: string; tenantId: string; operation: string; operationName: string | null; started: number }
  >();

  /** Null when the connection may open; else why not (per-tenant cap, per-key connection rate). */
  async function connectionRefusal(access: Access): Promise<string | null> {
    const tenantMax = options.connectionsPerTenantMax ?? 0;
    if (tenantMax > 0 && (perTenant.get(access.tenantId) ?? 0) >= tenantMax) {
      rateLimited.inc({ kind: "tenant_connections" });
      return `Too many connections: this tenant has its most on this instance (${tenantMax})`;
    }
    const refused = options.connectionLimiter ? await options.connectionLimiter.consume(access.keyId) : null;
    if (!refused) return null;
    return `Too many new connections for this API key (at most ${options.connectionLimiter!.perSecond} per second); retry in ${Math.ceil(refused.retryAfterMs / 1000)} s`;
  }

  const server = useServer<Record<string, unknown>>(
    {
      isProd: options.production,
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs,
      async onConnect(ctx) {
        const socket = ctx.extra.socket;
        const connectionId = requestIdFrom(ctx.extra.request.headers["x-request-id"]);
        // connection_init's payload: { authorization: "Bearer <API key or access token>" }.
        const bearer = bearerOf(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization);
        let access: Access | null = null;
        try {
          access = bearer ? await options.authenticate(bearer) : null;
        } catch (error) {
          // graphql-ws would log a stack and close with 4500: say what it is instead.
          if (isDatabaseUnavailable(error)) socket.close(tryAgainLaterCloseCode, "Try again later: the database is unavailable");
          else {
            logger.error({ connectionId, err: error }, "authenticating a connection failed");
            socket.close(internalErrorCloseCode, "Internal server error");
          }
          return false;
        }
        if (!bearer || !access) {
          socket.close(
            unauthorizedCloseCode,
            bearer
              ? "Unauthorized: unknown, revoked or expired API key or access token"
              : 'Unauthorized: send { authorization: "Bearer <API key or access token>" } in connection_init',
          );
          return false;
        }
        const refusal = await connectionRefusal(access);
        if (refusal) {
          socket.close(tooManyConnectionsCloseCode, refusal);
          return false;
        }
        const tenantId = access.tenantId;
        perTenant.set(tenantId, (perTenant.get(tenantId) ?? 0) + 1);
        socket.once("close", () => {
          const left = (perTenant.get(tenantId) ?? 1) - 1;
          if (left > 0) perTenant.set(tenantId, left);
          else perTenant.delete(tenantId);
        });
        if (access.expiresAt) closeAtExpiry(socket, access.expiresAt);
        const live = createLiveConnection(
          limits.subscriptionEventsQueuedMax,
          () => cutSlow(socket, "too many events queued"),
          (depth) => {
            if (depth > eventsQueuedPeak) eventsQueuedPeak = depth;
          },
        );
        states.set(socket, { connectionId, bearer, access, live, operations: 0 });
        logger.debug({ connectionId, tenantId }, "connection opened");
        return true;
      },
      async onSubscribe(ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> {
        const state = states.get(ctx.extra.socket);
        if (!state) return [new GraphQLError("not authenticated")]; // graphql-ws closes 4401 before this
        const started = performance.now();
        const refuse = (
          errors: readonly GraphQLError[],
          operation = "unknown",
          fallbackCode = "GRAPHQL_VALIDATION_FAILED",
        ): GraphQLError[] => {
          const honest = errors.map((error) => honestError(error, fallbackCode));
          recordOperation(
            "ws",
            operation,
            honest.map((e) => String(e.extensions.code ?? "GRAPHQL_VALIDATION_FAILED")),
            (performance.now() - started) / 1000,
          );
          return honest;
        };
        if (stopping) {
          return refuse([
            new GraphQLError("the server is shutting down; reconnect (to another instance) and send it again", {
              extensions: { code: "SHUTTING_DOWN", retryable: true },
            }),
          ]);
        }
        if (state.operations >= limits.subscriptionsPerConnectionMax) {
          return refuse([
            new GraphQLError(
              `operations on this connection exceed subscriptionsPerConnectionMax (${limits.subscriptionsPerConnectionMax})`,
              {
                extensions: { code: "LIMIT_EXCEEDED", limit: "subscriptionsPerConnectionMax", max: limits.subscriptionsPerConnectionMax },
              },
            ),
          ]);
        }
        const variables = (payload.variables ?? {}) as Record<string, unknown>;
        const checked = await checkOperation(options.policy, schema, options.introspection, { ...payload, variables }, state.access);
        if (!checked.ok) return refuse(checked.errors, checked.label, checked.fallbackCode);
        const { document, label: operation } = checked;
        state.operations++;
        const contextValue = createContext(db, state.access, limits, {
          live: hub,
          connection: state.live,
          tokenSecret: options.tokenSecret,
          webhooks: options.webhooks,
        });
        operations.set(contextValue, {
          requestId: `${state.connectionId}/${id}`,
          tenantId: state.access.tenantId,
          operation,
          operationName: payload.operationName ?? null,
          started,
        });
        return { schema, document, variableValues: variables, operationName: payload.operationName ?? undefined, contextValue };
      },
      // Queries and mutations over the socket: counted, so a shutdown lets them finish.
      async execute(args) {
        running++;
        try {
          const result = await execute(args);
          if (!("errors" in result) && !("data" in result)) return result;
          const errors = result.errors?.map((error) => options.formatError(error));
          const op = operations.get(args.contextValue as object);
          if (op) {
            const codes = errors?.map((e) => String(e.extensions?.code ?? "UNKNOWN")) ?? [];
            const durationMs = performance.now() - op.started;
            const outcome = recordOperation("ws", op.operation, codes, durationMs / 1000);
            const { started: _, ...fields } = op;
            logger.info(
              {
                ...fields,
                transport: "ws",
                durationMs: Math.round(durationMs * 10) / 10,
                outcome,
                ...(codes.length ? { errorCodes: codes } : {}),
              },
              "operation",
            );
          }
          return errors ? { ...result, errors: errors as never } : result;
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
        // Query and mutation errors were formatted in execute(); subscription events' are raw.
        return {
          ...result,
          errors: result.errors.map((error) => (typeof (error as GraphQLError).toJSON === "function" ? options.formatError(error) : error)),
        };
      },
    },
    wss,
  );

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (stopping || path !== "/graphql") {
      socket.end(`HTTP/1.1 ${stopping ? "503 Service Unavailable" : "404 Not Found"}\r\nconnection: close\r\n\r\n`);
      return;
    }
    const atCap = (options.connectionsMax ?? 0) > 0 && wss.clients.size >= options.connectionsMax!;
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.once("close", (code) => websocketCloses.inc({ code: String(code) }));
      if (!atCap) return wss.emit("connection", ws, request);
      rateLimited.inc({ kind: "instance_connections" });
      ws.close(tryAgainLaterCloseCode, `Try again later: this instance has its most connections (${options.connectionsMax})`);
    });
  }
  options.httpServer.on("upgrade", onUpgrade);

  // Revocation: bearers of open connections are checked again; a revoked key's sockets close,
  // and so do the sockets of the tokens it minted.
  const recheck = setInterval(() => {
    for (const socket of wss.clients) {
      const state = states.get(socket);
      if (!state) continue;
      options.authenticate(state.bearer).then(
        (access) => {
          if (access?.tenantId !== state.access.tenantId)
            cut(socket, unauthorizedCloseCode, "Unauthorized: API key revoked or access token expired");
        },
        (error: Error) => {
          if (!isDatabaseUnavailable(error)) logger.error({ err: errorText(error) }, "auth recheck failed");
        },
      );
    }
  }, options.authRecheckMs);
  recheck.unref();

  // Slow consumers: graphql-ws waits for each send to drain before taking the next event, so a
  // client that stops reading shows as an outgoing buffer that never empties.
  const sweep = setInterval(
    () => {
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
    },
    Math.max(10, Math.min(1000, options.slowConsumerMs / 4)),
  );
  sweep.unref();

  return {
    stats: () => ({ connections: wss.clients.size, slowConsumersCut, eventsQueuedPeak }),
    async close(drainMs = 10_000) {
      stopping = true;
      clearInterval(recheck);
      clearInterval(sweep);
      const deadline = Date.now() + drainMs;
      while (running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const drained = running === 0;
      options.httpServer.off("upgrade", onUpgrade);
      await server.dispose(); // closes every socket with 1001 "Going away"
      unobserve();
      return drained;
    },
  };
}

/** Parse and validation refusals of a too-large document as LIMIT_EXCEEDED (as over HTTP); no HTTP status. */
function honestError(error: GraphQLError, fallbackCode: string): GraphQLError {
  const refusal = limitRefusal(error.message);
  if (refusal) return new GraphQLError(refusal.message, { extensions: refusal.extensions });
  const { http: _status, ...extensions } = error.extensions ?? {};
  if (extensions.code !== undefined) return new GraphQLError(error.message, { nodes: error.nodes, extensions });
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: fallbackCode } });
}
