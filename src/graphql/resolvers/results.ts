// Result unions: a problem's `code` is its GraphQL type name; successes carry __typename.
import type { Resolvers } from "../../generated/graphql.js";

function resolveResult(value: unknown): string {
  const named = value as { __typename?: string; code?: string };
  return named.__typename ?? named.code ?? "";
}

const unions = [
  "CreateAccountResult",
  "UpdateAccountResult",
  "CreateCurrencyResult",
  "TransferResult",
  "PostTransfersResult",
  "CreateHoldResult",
  "CaptureHoldResult",
  "VoidHoldResult",
  "ReverseTransferResult",
  "CreateAccessTokenResult",
  "CreateWebhookEndpointResult",
  "UpdateWebhookEndpointResult",
  "RotateWebhookSecretResult",
  "RetryWebhookDeliveryResult",
  "ReplayWebhookEventsResult",
  "ImportStatementResult",
  "AppendStatementLinesResult",
  "ReconcileStatementResult",
  "ResolveReconciliationExceptionResult",
] as const;

export const resultUnions = Object.fromEntries(unions.map((name) => [name, { __resolveType: resolveResult }])) as Pick<
  Resolvers,
  (typeof unions)[number]
>;

export const Node: Resolvers["Node"] = {
  __resolveType: (value) => (value as unknown as { __typename: "Account" | "Transfer" | "Entry" | "Hold" }).__typename,
};

export const Problem: Resolvers["Problem"] = {
  __resolveType: (value) => resolveResult(value) as never,
};
