import type { Fetcher } from "@graphiql/toolkit";
import { getOperationAST, parse, type OperationTypeNode } from "graphql";
import type { Endpoint } from "./endpoint";
import { postGraphQL } from "./http-request";
import { createSocketSubscriptions } from "./socket-subscriptions";

export interface LedgerTransport {
  /** Subscriptions over graphql-ws, everything else (introspection too) over HTTP POST. */
  fetcher: Fetcher;
  /** Ends the socket made with the previous token, telling running subscriptions why. */
  closeSockets(reason: string): void;
}

/** `readToken` is read on every request, so a new token applies to the very next one. */
export function createLedgerTransport(endpoint: Endpoint, readToken: () => string): LedgerTransport {
  const sockets = createSocketSubscriptions(endpoint.socketUrl, readToken);
  const fetcher = ((params, opts) => {
    if (operationKind(params.query, params.operationName) === "subscription") {
      return sockets.subscribe(params);
    }
    const token = readToken();
    if (!token && params.operationName === "IntrospectionQuery" && !hasAuthorization(opts?.headers)) {
      // Shown in the response pane on a first visit: guidance instead of the server's 401.
      return Promise.resolve({ errors: [{ message: noTokenMessage }] });
    }
    return postGraphQL(endpoint.httpUrl, params, token, opts?.headers);
    // GraphiQL's Fetcher type wants GraphQLError instances; it only prints results as JSON, so
    // the formatted (plain JSON) results the wire carries are what it really gets anyway.
  }) as Fetcher;
  return { fetcher, closeSockets: sockets.reset };
}

const noTokenMessage =
  "No access token yet: paste one in the Token field at the top right (create one with the " +
  "createAccessToken mutation; an API key works too). The schema loads as soon as it is set.";

function hasAuthorization(headers: Record<string, unknown> | undefined): boolean {
  return Object.keys(headers ?? {}).some((name) => name.toLowerCase() === "authorization");
}

/**
 * The type of the operation GraphiQL runs: the one named operationName, or the only one.
 * Null when the document does not parse or is ambiguous; HTTP then reports the error.
 */
export function operationKind(query: string, operationName?: string | null): OperationTypeNode | null {
  try {
    return getOperationAST(parse(query), operationName ?? undefined)?.operation ?? null;
  } catch {
    return null;
  }
}
