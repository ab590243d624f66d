// Operation metrics and per-request log fields for GraphQL over HTTP, and HTTP 503 +
// Retry-After when the database is unavailable. The same labels are used for WebSocket
// operations (ws-transport.ts).
import type { ApolloServerPlugin } from "@apollo/server";
import { Kind, type DocumentNode, type OperationDefinitionNode } from "graphql";
import { retryAfterSeconds } from "../db/unavailable.js";
import { requestInfoOf } from "../http/request-info.js";
import { graphqlErrors, operationDuration } from "../ops/metrics.js";
import type { Context } from "./context.js";

/** `type.rootField` (`type.multiple` for several distinct root fields): a bounded metric label. */
export function operationLabel(operation: OperationDefinitionNode | undefined | null): string {
  if (!operation) return "unknown";
  const names = new Set(operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : "fragment")));
  return `${operation.operation}.${names.size === 1 ? [...names][0] : "multiple"}`;
}

export function operationOf(document: DocumentNode, operationName?: string | null): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
}

/** How many mutations an operation asks for (each root field counts once against the rate limit). */
export const mutationCount = (operation: OperationDefinitionNode | undefined): number =>
  operation?.operation === "mutation" ? operation.selectionSet.selections.length : 0;

export type Outcome = "ok" | "client_error" | "unavailable" | "server_error";

export function outcomeOf(codes: readonly string[]): Outcome {
  if (codes.length === 0) return "ok";
  if (codes.includes("INTERNAL_SERVER_ERROR")) return "server_error";
  if (codes.includes("DATABASE_UNAVAILABLE")) return "unavailable";
  return "client_error";
}

export function recordOperation(transport: "http" | "ws", operation: string, codes: readonly string[], seconds: number): Outcome {
  const outcome = outcomeOf(codes);
  operationDuration.observe({ transport, operation, outcome }, seconds);
  for (const code of codes) graphqlErrors.inc({ transport, code });
  return outcome;
}

export function observePlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request }) {
      const started = performance.now();
      const info = requestInfoOf(request.http);
      let operation = "unknown";
      return {
        async didResolveOperation({ operation: resolved, operationName }) {
          operation = operationLabel(resolved);
          if (info) {
            info.operation = operation;
            info.operationName = operationName ?? null;
          }
        },
        async willSendResponse({ response, contextValue }) {
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          const codes = errors.map((e) => String(e.extensions?.code ?? "UNKNOWN"));
          if (codes.includes("DATABASE_UNAVAILABLE")) {
            response.http.status = 503;
            response.http.headers.set("retry-after", String(retryAfterSeconds));
          }
          recordOperation("http", operation, codes, (performance.now() - started) / 1000);
          if (info) {
            info.errorCodes = codes;
            info.tenantId = contextValue?.tenantId ?? null;
          }
        },
      };
    },
  };
}
