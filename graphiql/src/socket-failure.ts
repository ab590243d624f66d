import type { FormattedExecutionResult as ExecutionResult } from "graphql-ws";

/**
 * Close codes the ledger (schema.graphql, Subscription) and graphql-ws use: what happened when
 * the server gave no reason, and what to do about it.
 */
const closeCodeHelp: Record<number, { meaning: string; hint?: string }> = {
  1000: { meaning: "closed" },
  1001: { meaning: "the server is shutting down", hint: "Run the subscription again." },
  1006: { meaning: "the connection dropped (server unreachable or restarted)", hint: "Run the subscription again." },
  1011: { meaning: "internal server error" },
  4029: {
    meaning: "this connection fell too far behind (slow consumer)",
    hint: "Subscribe again with afterVersion set to the last version you saw.",
  },
  4400: { meaning: "bad request" },
  4401: {
    meaning: "Unauthorized: unknown, expired or revoked access token",
    hint: "Set a valid access token in the Token field (createAccessToken, or an API key).",
  },
  4403: { meaning: "forbidden" },
  4408: { meaning: "no connection_init in time", hint: "Run the subscription again." },
  4409: { meaning: "subscriber already exists" },
  4429: { meaning: "too many initialisation requests" },
  4500: { meaning: "internal server error" },
};

interface CloseEventLike {
  code: number;
  reason: string;
}

function isCloseEventLike(value: unknown): value is CloseEventLike {
  return typeof value === "object" && value !== null && "code" in value && typeof value.code === "number";
}

/**
 * What graphql-ws reports when a subscription fails, as a result for the response pane: the
 * server's GraphQL errors as they are, a socket close as its code, reason and meaning.
 */
export function socketFailureResult(failure: unknown): ExecutionResult {
  if (Array.isArray(failure)) return { errors: failure };
  if (isCloseEventLike(failure)) {
    const help = closeCodeHelp[failure.code];
    const what = failure.reason || help?.meaning || "closed";
    const hint = help?.hint ? ` ${help.hint}` : "";
    return {
      errors: [
        {
          message: `WebSocket closed with code ${failure.code}: ${what}.${hint}`,
          extensions: { closeCode: failure.code, closeReason: failure.reason },
        },
      ],
    };
  }
  if (failure instanceof Error) return { errors: [{ message: `WebSocket error: ${failure.message}` }] };
  return { errors: [{ message: "WebSocket error: the connection to /graphql failed." }] };
}
