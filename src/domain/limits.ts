/** Limits on everything a request can ask for. Defaults are documented in the README. */
export interface Limits {
  pageSizeMax: number;
  transferBatchSizeMax: number;
  legsPerTransferMax: number;
  metadataBytesMax: number;
  descriptionLengthMax: number;
  idempotencyKeyLengthMax: number;
  nameLengthMax: number;
  accountCodeLengthMax: number;
  /** Longest externalRef of a transfer or hold (a payment provider's id). */
  externalRefLengthMax: number;
  queryDepthMax: number;
  queryAliasesMax: number;
  queryTokensMax: number;
  queryCostMax: number;
  /** Longest time a hold may stay open. */
  holdDurationMaxSeconds: number;
  /** Most points one balanceHistory answers. */
  balanceHistoryPointsMax: number;
  /** Most accounts one balanceChanged subscription watches. */
  subscriptionAccountsMax: number;
  /** Most operations running at once on one WebSocket connection. */
  subscriptionsPerConnectionMax: number;
  /** Most live events waiting to be sent on one connection before it is closed as too slow. */
  subscriptionEventsQueuedMax: number;
  /** Longest life of an access token. */
  accessTokenTtlMaxSeconds: number;
  /** Most accounts one access token may be limited to. */
  accessTokenAccountsMax: number;
  /** Webhook endpoints per tenant, and events one replayWebhookEvents call re-sends. */
  webhookEndpointsPerTenantMax: number;
  webhookReplayEventsMax: number;
  /** Statement lines one importStatement or appendStatementLines call may carry, and one statement in all. */
  statementLinesPerCallMax: number;
  statementLinesMax: number;
}

export const limitsDefault: Limits = {
  pageSizeMax: 100,
  transferBatchSizeMax: 500,
  legsPerTransferMax: 32,
  metadataBytesMax: 4096,
  descriptionLengthMax: 1000,
  idempotencyKeyLengthMax: 255,
  nameLengthMax: 255,
  accountCodeLengthMax: 255,
  externalRefLengthMax: 255,
  queryDepthMax: 12,
  queryAliasesMax: 30,
  queryTokensMax: 5000,
  queryCostMax: 20000,
  holdDurationMaxSeconds: 30 * 24 * 3600,
  balanceHistoryPointsMax: 1000,
  subscriptionAccountsMax: 100,
  subscriptionsPerConnectionMax: 100,
  subscriptionEventsQueuedMax: 1000,
  accessTokenTtlMaxSeconds: 3600,
  accessTokenAccountsMax: 100,
  webhookEndpointsPerTenantMax: 20,
  webhookReplayEventsMax: 10_000,
  statementLinesPerCallMax: 5_000,
  statementLinesMax: 1_000_000,
};
