// A small GraphQL client: queries over HTTP (fetch), subscriptions over graphql-ws, both on the
// page's own origin at /graphql. Authentication failures from either end go to one handler so
// the app can return to sign-in.
import { createClient, type Client } from "graphql-ws";

export type LiveStatus = "live" | "reconnecting";

export type ApiErrorKind = "auth" | "request" | "network";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly kind: ApiErrorKind,
    /** GraphQL extensions.code, e.g. BAD_USER_INPUT. */
    readonly code?: string,
    /** The service's stable extensions.reason, e.g. AS_OF_IN_FUTURE. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; reason?: string };
}

interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: GraphQLErrorShape[];
}

export interface SubscriptionSink<TData> {
  next(data: TData): void;
  error(error: ApiError): void;
}

export interface Api {
  query<TData>(document: string, variables?: Record<string, unknown>): Promise<TData>;
  /**
   * Like query, for mutations: a FORBIDDEN error (the token may read but not do this) is the
   * caller's to show, not a reason to sign out; UNAUTHENTICATED still signs out.
   */
  mutate<TData>(document: string, variables?: Record<string, unknown>): Promise<TData>;
  /**
   * `variables` is called each time the operation is (re)sent, so a resubscription after a
   * reconnect carries what the page shows at that moment (e.g. afterVersion).
   */
  subscribe<TData>(document: string, variables: () => Record<string, unknown>, sink: SubscriptionSink<TData>): () => void;
  /** "live" while the socket is connected and acknowledged. */
  status(): LiveStatus;
  onStatus(listener: (status: LiveStatus) => void): () => void;
  dispose(): void;
}

const authErrorCodes: ReadonlySet<string> = new Set(["UNAUTHENTICATED", "FORBIDDEN"]);
const mutationAuthErrorCodes: ReadonlySet<string> = new Set(["UNAUTHENTICATED"]);
// 4401: unknown or revoked key; 4403: forbidden. Retrying cannot help with either.
const authCloseCodes = new Set([4401, 4403]);
const retryWaitMaxMs = 10_000;

function httpUrl(): string {
  return `${window.location.origin}/graphql`;
}

function wsUrl(): string {
  const protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${protocol}//${window.location.host}/graphql`;
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && "code" in value && typeof (value as { code: unknown }).code === "number";
}

function errorFromGraphQL(errors: readonly GraphQLErrorShape[], authCodes: ReadonlySet<string> = authErrorCodes): ApiError {
  const auth = errors.find((e) => authCodes.has(e.extensions?.code ?? ""));
  const chosen = auth ?? errors[0];
  const message = chosen?.message ?? "unknown error";
  return new ApiError(message, auth ? "auth" : "request", chosen?.extensions?.code, chosen?.extensions?.reason);
}

/** Turns whatever graphql-ws hands to an error sink into an ApiError. */
function errorFromSocket(value: unknown): ApiError {
  if (Array.isArray(value)) return errorFromGraphQL(value as GraphQLErrorShape[]);
  if (isCloseEvent(value)) {
    const kind = authCloseCodes.has(value.code) ? "auth" : "network";
    return new ApiError(value.reason || "the live connection closed", kind, String(value.code));
  }
  return new ApiError(value instanceof Error ? value.message : "live connection failed", "network");
}

export function createApi(token: string, onAuthLost: (error: ApiError) => void): Api {
  const statusListeners = new Set<(status: LiveStatus) => void>();
  let currentStatus: LiveStatus = "reconnecting";
  const setStatus = (status: LiveStatus) => {
    currentStatus = status;
    for (const listener of statusListeners) listener(status);
  };

  const fail = (error: ApiError): ApiError => {
    if (error.kind === "auth") onAuthLost(error);
    return error;
  };

  const socket: Client = createClient({
    url: wsUrl(),
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    lazy: true,
    // Keeps the socket open across a page change (one subscription ends, the next starts).
    lazyCloseTimeout: 2_000,
    retryAttempts: Infinity,
    retryWait: (retries) =>
      new Promise((resolve) => window.setTimeout(resolve, Math.min(retryWaitMaxMs, 500 * 2 ** retries) + Math.random() * 500)),
    // Also retry socket errors (a refused connection is an error event before the close).
    shouldRetry: (event) => !(isCloseEvent(event) && authCloseCodes.has(event.code)),
    on: {
      connected: () => setStatus("live"),
      closed: () => setStatus("reconnecting"),
      connecting: () => setStatus("reconnecting"),
    },
  });

  async function send<TData>(
    document: string,
    variables: Record<string, unknown> | undefined,
    authCodes: ReadonlySet<string>,
  ): Promise<TData> {
    let response: Response;
    try {
      response = await fetch(httpUrl(), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: document, variables }),
      });
    } catch {
      throw new ApiError("the service cannot be reached", "network");
    }
    let body: GraphQLResponse<TData> | undefined;
    try {
      body = (await response.json()) as GraphQLResponse<TData>;
    } catch {
      body = undefined;
    }
    if (response.status === 401) {
      const message = body?.errors?.[0]?.message ?? "not authenticated";
      throw fail(new ApiError(message, "auth", "UNAUTHENTICATED"));
    }
    if (body?.errors?.length) throw fail(errorFromGraphQL(body.errors, authCodes));
    if (!body?.data) throw new ApiError(`unexpected answer (HTTP ${response.status})`, "network");
    return body.data;
  }

  return {
    query: <TData>(document: string, variables?: Record<string, unknown>) => send<TData>(document, variables, authErrorCodes),
    mutate: <TData>(document: string, variables?: Record<string, unknown>) => send<TData>(document, variables, mutationAuthErrorCodes),

    subscribe<TData>(document: string, variables: () => Record<string, unknown>, sink: SubscriptionSink<TData>) {
      // graphql-ws serializes the payload on every (re)send, so the getter is read each time.
      const payload = {
        query: document,
        get variables() {
          return variables();
        },
      };
      return socket.subscribe<TData>(payload, {
        next: (result) => {
          if (result.errors?.length) sink.error(fail(errorFromGraphQL(result.errors as GraphQLErrorShape[])));
          else if (result.data) sink.next(result.data);
        },
        error: (value) => sink.error(fail(errorFromSocket(value))),
        complete: () => {},
      });
    },

    status: () => currentStatus,

    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },

    dispose() {
      statusListeners.clear();
      void socket.dispose();
    },
  };
}
