import type { FetcherParams, Observable, Unsubscribable } from "@graphiql/toolkit";
import { createClient, type Client, type FormattedExecutionResult as ExecutionResult } from "graphql-ws";
import { socketFailureResult } from "./socket-failure";

type ResultObserver = {
  next?: (result: ExecutionResult) => void;
  error?: (error: unknown) => void;
  complete?: () => void;
};

export interface SocketSubscriptions {
  subscribe(params: FetcherParams): Observable<ExecutionResult>;
  /** Closes the socket, telling each running subscription `reason` first (the token changed). */
  reset(reason: string): void;
}

/**
 * Subscriptions over graphql-ws on one lazy socket per token: the token travels in
 * connection_init, so a new token needs a new client, and the old one is disposed.
 */
export function createSocketSubscriptions(url: string, readToken: () => string): SocketSubscriptions {
  let current: { client: Client; token: string } | null = null;
  const running = new Set<ResultObserver>();

  function clientForToken(): Client {
    const token = readToken();
    if (current?.token === token) return current.client;
    current?.client.dispose();
    const client = createClient({
      url,
      lazy: true,
      // Every close is reported in the response pane rather than retried silently: resubscribing
      // without afterVersion would skip the events in between.
      retryAttempts: 0,
      connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
    });
    current = { client, token };
    return client;
  }

  function subscribe(params: FetcherParams): Observable<ExecutionResult> {
    return {
      subscribe(
        nextOrObserver?: ResultObserver | ((result: ExecutionResult) => void),
        error?: ((error: unknown) => void) | null,
        complete?: () => void,
      ): Unsubscribable {
        const observer: ResultObserver =
          typeof nextOrObserver === "function" ? { next: nextOrObserver, error: error ?? undefined, complete } : (nextOrObserver ?? {});
        running.add(observer);
        const end = () => {
          running.delete(observer);
          observer.complete?.();
        };
        const dispose = clientForToken().subscribe<Record<string, unknown>, Record<string, unknown>>(
          { query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined },
          {
            next: (result) => observer.next?.(result),
            // Shown as a result, then ended: GraphiQL then shows it like any response.
            error: (failure) => {
              observer.next?.(socketFailureResult(failure));
              end();
            },
            complete: end,
          },
        );
        return {
          unsubscribe() {
            running.delete(observer);
            dispose();
          },
        };
      },
    };
  }

  return {
    subscribe,
    reset(reason) {
      for (const observer of running) observer.next?.({ errors: [{ message: reason }] });
      current?.client.dispose();
      current = null;
    },
  };
}
