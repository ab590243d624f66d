// Expected failures. Each problem's `code` is also its GraphQL type name, so the API maps
// them one to one. Problems are plain data: they can be stored under an idempotency key
// and returned again on replay.
//
// `problemCodes` is the registry: the schema's Problem types, codegen's mappers, the messages
// below and the codes the write engine (prisma/sql/engine.sql) reports are all checked against
// it (test/project/problem-registry.test.ts).

export const problemCodes = [
  "InvalidInput",
  "LimitExceeded",
  "IdempotencyConflict",
  "AccountNotFound",
  "AccountCodeTaken",
  "CurrencyNotFound",
  "CurrencyCodeTaken",
  "BoundsViolated",
  "UnbalancedTransfer",
  "CurrencyMismatch",
  "InsufficientFunds",
  "BalanceLimitExceeded",
  "AmountOverflow",
  "BatchAborted",
  "HoldNotFound",
  "HoldExpired",
  "HoldNotOpen",
  "CaptureExceedsRemaining",
  "TransferNotFound",
  "NotReversible",
  "ReversalExceedsRemaining",
  "WebhookEndpointNotFound",
  "WebhookDeliveryNotFound",
  "StatementNotFound",
  "ReconciliationExceptionNotFound",
  "ExceptionAlreadyResolved",
] as const;

export type ProblemCode = (typeof problemCodes)[number];

export interface Problem {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(problem: Problem): Result<T> => ({ ok: false, problem });

/** Stable reasons for InvalidInput, so clients can branch without parsing messages. */
export type InvalidReason =
  | "AFTER_VERSION"
  | "AMOUNT_LEADING_ZERO"
  | "AMOUNT_NOT_A_STRING"
  | "AMOUNT_NOT_INTEGER"
  | "AMOUNT_NOT_POSITIVE"
  | "AMOUNT_OUT_OF_RANGE"
  | "BOUNDS_INVERTED"
  | "CURRENCY_CODE_FORMAT"
  | "CURRENCY_MISMATCH"
  | "CURRENCY_SCALE_RANGE"
  | "DUPLICATE_ACCOUNT"
  | "DUPLICATE_IDEMPOTENCY_KEY"
  | "EMPTY"
  | "EVENT_TYPE_DUPLICATE"
  | "EXACTLY_ONE_OF"
  | "EXPIRY_OUT_OF_RANGE"
  | "FORBIDDEN_CHARACTER"
  | "FORMAT"
  | "METADATA_NOT_OBJECT"
  | "MIXED_CURRENCIES"
  | "OUT_OF_PERIOD"
  | "PARTIAL_MULTI_LEG"
  | "PERIOD_NOT_ENDED"
  | "RANGE_INVERTED"
  | "TOO_FEW_LEGS"
  | "TRANSFER_FORM"
  | "TOLERANCE_OUT_OF_RANGE"
  | "TTL_OUT_OF_RANGE"
  | "RESOLUTION_NOT_APPLICABLE"
  | "UNSAFE_NUMBER"
  | "UNSUPPORTED_FILTER"
  | "URL_CREDENTIALS"
  | "URL_FORMAT"
  | "URL_PRIVATE_ADDRESS"
  | "URL_SCHEME"
  | "GRACE_OUT_OF_RANGE";

export const invalidInput = (field: string, reason: InvalidReason, message: string): Problem => ({
  code: "InvalidInput",
  field,
  reason,
  message: `${field}: ${message}`,
});

export const limitExceeded = (limit: string, max: number | bigint, what: string): Problem => ({
  code: "LimitExceeded",
  limit,
  max: String(max),
  message: `${what} exceeds ${limit} (${max})`,
});

export const accountNotFound = (account: string, legIndex?: number): Problem => ({
  code: "AccountNotFound",
  account,
  legIndex: legIndex ?? null,
  message: `no account ${account}`,
});

export const currencyNotFound = (currency: string): Problem => ({
  code: "CurrencyNotFound",
  currency,
  message: `no currency ${currency}`,
});

/** How each problem is worded when it comes without a message (from the write engine). */
export const problemMessages: Record<ProblemCode, (p: Problem) => string> = {
  InvalidInput: (p) => `${String(p.field)}: invalid (${String(p.reason)})`,
  LimitExceeded: (p) => `exceeds ${String(p.limit)} (${String(p.max)})`,
  AccountNotFound: (p) => `no account ${String(p.account)}`,
  AccountCodeTaken: (p) => `an account with code "${String(p.accountCode)}" exists already`,
  CurrencyNotFound: (p) => `no currency ${String(p.currency)}`,
  CurrencyCodeTaken: (p) => `currency ${String(p.currency)} exists already`,
  BoundsViolated: (p) => `account ${String(p.accountId)} has balance ${String(p.balance)}, outside the new bounds (open holds included)`,
  UnbalancedTransfer: (p) => `debits and credits differ in ${String(p.currency)}`,
  CurrencyMismatch: (p) => `leg ${String(p.legIndex)} is in ${String(p.legCurrency)} but its account is in ${String(p.accountCurrency)}`,
  InsufficientFunds: (p) => `account ${String(p.accountId)} has ${String(p.available)} available, ${String(p.requested)} requested`,
  BalanceLimitExceeded: (p) =>
    `account ${String(p.accountId)} would reach ${String(p.balanceAfter)}, above its maximum ${String(p.maxBalance)}`,
  AmountOverflow: (p) => `account ${String(p.accountId)} totals would leave the signed 64-bit range`,
  IdempotencyConflict: (p) => `idempotency key "${String(p.idempotencyKey)}" was used for a different request`,
  BatchAborted: (p) => `not posted: item ${String(p.failedIndex)} of this atomic batch failed`,
  HoldNotFound: (p) => `no hold ${String(p.holdId)}`,
  HoldExpired: (p) => `hold ${String(p.holdId)} expired at ${String(p.expiresAt)}`,
  HoldNotOpen: (p) => `hold ${String(p.holdId)} is ${String(p.status)}, not open`,
  CaptureExceedsRemaining: (p) => `hold ${String(p.holdId)} has ${String(p.remaining)} remaining, ${String(p.requested)} requested`,
  TransferNotFound: (p) => `no transfer ${String(p.transferId)}`,
  NotReversible: (p) =>
    p.reason === "HOLD"
      ? `${String(p.id)} is a hold: void it, or reverse the transfer its capture posted`
      : `${String(p.id)} is itself a reversal and cannot be reversed`,
  ReversalExceedsRemaining: (p) =>
    `transfer ${String(p.transferId)} has ${String(p.remaining)} left to reverse, ${String(p.requested)} requested`,
  WebhookEndpointNotFound: (p) => `no webhook endpoint ${String(p.endpointId)}`,
  WebhookDeliveryNotFound: (p) => `no webhook delivery ${String(p.deliveryId)}`,
  StatementNotFound: (p) => `no statement ${String(p.statementId)}`,
  ReconciliationExceptionNotFound: (p) => `no reconciliation exception ${String(p.exceptionId)}`,
  ExceptionAlreadyResolved: (p) => `reconciliation exception ${String(p.exceptionId)} is resolved already`,
};

export const holdNotFound = (holdId: string): Problem => withMessage({ code: "HoldNotFound", holdId });
export const transferNotFound = (transferId: string): Problem => withMessage({ code: "TransferNotFound", transferId });
export const idempotencyConflict = (idempotencyKey: string): Problem => withMessage({ code: "IdempotencyConflict", idempotencyKey });

/** Adds a human message to a problem that came from the database without one. */
export function withMessage(problem: { code: string; message?: string; [detail: string]: unknown }): Problem {
  if (typeof problem.message === "string") return problem as Problem;
  const describe = problemMessages[problem.code as ProblemCode];
  return { ...problem, code: problem.code, message: describe ? describe(problem as Problem) : problem.code };
}
