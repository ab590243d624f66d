// A graphql-ws client for tests: subscribes and collects events, and waits for conditions.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { queryText, type GraphQLDocument } from "./graphql-document.js";

export interface Subscription<T> {
  /** Data of every event received so far, in order. */
  events: T[];
  /** Errors the server sent for this operation (a refused subscribe, or an event's errors). */
  errors: unknown[];
  completed: boolean;
  /** Resolves once `count` events have arrived (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves once the operation ended (completed or errored). */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

export interface LiveClient {
  client: Client;
  /** The close event's code once the socket closed. */
  closeCode(): number | null;
  closed(timeoutMs?: number): Promise<number>;
  /** Resolves once the service acknowledged the connection (it counts against the caps from then on). */
  connected(timeoutMs?: number): Promise<void>;
  /** A query string (events are `any`, or the type given) or a generated document (events typed by it). */
  subscribe<T = any, V extends Record<string, unknown> = Record<string, unknown>>(
    query: GraphQLDocument<T, V>,
    variables?: NoInfer<V>,
  ): Subscription<T>;
  dispose(): Promise<void>;
}

export function wsUrlOf(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}

/** Polls `check` (which may ask the database) every `pollMs` until it holds; fails the test after `timeoutMs`, naming what it waited for. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 5000,
  pollMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Connects with `key` in connection_init (no key: an empty payload). No retries: tests see every close. */
export function connectLive(httpUrl: string, key: string | null): LiveClient {
  let closeCode: number | null = null;
  let acknowledged = false;
  const client = createClient({
    url: wsUrlOf(httpUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
    on: {
      connected: () => {
        acknowledged = true;
      },
      closed: (event) => {
        closeCode = (event as { code: number }).code;
      },
    },
    onNonLazyError: () => {},
  });
  return {
    client,
    closeCode: () => closeCode,
    async closed(timeoutMs = 10_000) {
      await until(() => closeCode !== null, "the socket to close", timeoutMs);
      return closeCode!;
    },
    async connected(timeoutMs = 10_000) {
      await until(() => acknowledged || closeCode !== null, "the connection to be acknowledged", timeoutMs);
      if (!acknowledged) throw new Error(`the connection closed (${closeCode}) before it was acknowledged`);
    },
    subscribe<T, V extends Record<string, unknown>>(query: GraphQLDocument<T, V>, variables?: V): Subscription<T> {
      const events: T[] = [];
      const errors: unknown[] = [];
      let completed = false;
      let ended = false;
      const unsubscribe = client.subscribe<T>(
        { query: queryText(query), variables },
        {
          next: (result) => {
            if (result.errors) errors.push(...result.errors);
            if (result.data) events.push(result.data as T);
          },
          error: (error) => {
            // A close event or an Error (neither serialises well): keep what identifies it.
            const closing = error as { code?: number; reason?: string };
            if (error instanceof Error) errors.push({ message: error.message });
            else if (typeof closing.code === "number") errors.push({ closeCode: closing.code, reason: closing.reason });
            else errors.push(...(Array.isArray(error) ? error : [error]));
            ended = true;
          },
          complete: () => {
            completed = true;
            ended = true;
          },
        },
      );
      return {
        events,
        errors,
        get completed() {
          return completed;
        },
        async waitFor(count, timeoutMs = 10_000) {
          await until(
            () => events.length >= count || (ended && events.length < count),
            () => `${count} events (have ${events.length}; errors ${JSON.stringify(errors)})`,
            timeoutMs,
          );
          if (events.length < count)
            throw new Error(`subscription ended after ${events.length} of ${count} events: ${JSON.stringify(errors)}`);
          return events;
        },
        async ended(timeoutMs = 10_000) {
          await until(() => ended, "the operation to end", timeoutMs);
        },
        unsubscribe,
      };
    },
    dispose: () => Promise.resolve(client.dispose()),
  };
}
