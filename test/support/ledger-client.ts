// Small helpers over the GraphQL API, so tests read as the behaviour they check.
import { randomUUID } from "node:crypto";
import type { TestTenant } from "./service.js";

export const key = (prefix = "k") => `${prefix}-${randomUUID()}`;

const problemFields = `... on Problem { code message }`;

export const transferResultFields = `
  __typename
  ... on TransferPosted { replay transfer { id idempotencyKey description metadata createdAt entries { id direction amount account { id code } balanceAfter { posted version } } }
    balances { account { id code } balance { posted pending available debitsPosted creditsPosted version } } }
  ${problemFields}
  ... on InvalidInput { field reason }
  ... on LimitExceeded { limit max }
  ... on InsufficientFunds { accountId available requested minBalance legIndex replay }
  ... on BalanceLimitExceeded { accountId balanceAfter maxBalance replay }
  ... on UnbalancedTransfer { currency debits credits }
  ... on CurrencyMismatch { accountId accountCurrency legCurrency replay }
  ... on AccountNotFound { account legIndex replay }
  ... on AmountOverflow { accountId legIndex }
  ... on IdempotencyConflict { idempotencyKey }
  ... on BatchAborted { failedIndex }
`;

export const postTransferMutation = `mutation Post($input: TransferInput!) { postTransfer(input: $input) { ${transferResultFields} } }`;

export const postTransfersMutation = `mutation PostMany($input: PostTransfersInput!) {
  postTransfers(input: $input) {
    __typename
    ... on TransfersPosted { atomic allSucceeded results { ${transferResultFields} } }
    ${problemFields}
    ... on LimitExceeded { limit max }
    ... on InvalidInput { field reason }
  }
}`;

export interface AccountSpec {
  code?: string;
  name?: string;
  currency?: string;
  normalSide?: "DEBIT" | "CREDIT";
  minBalance?: string | null;
  maxBalance?: string | null;
  metadata?: Record<string, unknown>;
}

export const createAccountMutation = `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on AccountCreated { account { id code } } ... on Problem { code message } } }`;

export async function createAccount(tenant: TestTenant, spec: AccountSpec = {}): Promise<{ id: string; code: string }> {
  const input: Record<string, unknown> = {
    idempotencyKey: key("acct"),
    code: spec.code ?? key("acct"),
    name: spec.name ?? "Test account",
    currency: spec.currency ?? "USD",
    normalSide: spec.normalSide ?? "CREDIT",
    ...(spec.minBalance !== undefined ? { minBalance: spec.minBalance } : {}),
    ...(spec.maxBalance !== undefined ? { maxBalance: spec.maxBalance } : {}),
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
  };
  const data = await tenant.gql(createAccountMutation, { input });
  if (data.createAccount.__typename !== "AccountCreated") throw new Error(JSON.stringify(data.createAccount));
  return data.createAccount.account;
}

/** An account that may go negative without bound: the source of money in tests. */
export const createFundingAccount = (tenant: TestTenant, currency = "USD") =>
  createAccount(tenant, { minBalance: null, currency, code: key("funding") });

export async function postTransfer(tenant: TestTenant, input: Record<string, unknown>) {
  const data = await tenant.gql(postTransferMutation, { input: { idempotencyKey: key("tr"), ...input } });
  return data.postTransfer;
}

export async function transferBetween(tenant: TestTenant, fromId: string, toId: string, amount: string, currency = "USD") {
  return postTransfer(tenant, { from: { id: fromId }, to: { id: toId }, amount, currency });
}

export async function balanceOf(tenant: TestTenant, accountId: string) {
  const data = await tenant.gql(
    `query($id: ID!) { account(id: $id) { balance { posted pending available debitsPosted creditsPosted version } } }`,
    { id: accountId },
  );
  return data.account.balance as {
    posted: string;
    pending: string;
    available: string;
    debitsPosted: string;
    creditsPosted: string;
    version: string;
  };
}

// ------------------------------------------------------------------ holds and reversals

export const balanceFields = `posted pending available debitsPosted creditsPosted debitsPending creditsPending version`;

export const holdFields = `id idempotencyKey status amount capturedAmount voidedAmount expiredAmount remainingAmount expiresAt createdAt closedAt
  currency { code } legs { account { id } direction amount } captures { id } entries { kind account { id } amount }`;

const balancesFields = `balances { account { id } balance { ${balanceFields} } }`;

const problemFragments: Record<string, string> = {
  InvalidInput: "field reason",
  LimitExceeded: "limit max",
  InsufficientFunds: "accountId available requested minBalance legIndex replay",
  BalanceLimitExceeded: "accountId balanceAfter maxBalance replay",
  UnbalancedTransfer: "currency debits credits",
  AccountNotFound: "account legIndex replay",
  CurrencyMismatch: "accountId replay",
  IdempotencyConflict: "idempotencyKey",
  HoldNotFound: "holdId replay",
  HoldExpired: "holdId expiresAt replay",
  HoldNotOpen: "holdId status replay",
  CaptureExceedsRemaining: "holdId remaining requested replay",
  TransferNotFound: "transferId replay",
  NotReversible: "reason id replay",
  ReversalExceedsRemaining: "transferId remaining requested replay",
  AmountOverflow: "accountId legIndex replay",
};

/** The problem fields of a result union's members. */
const problemsOf = (...types: string[]) =>
  `${problemFields} ${types.map((type) => `... on ${type} { ${problemFragments[type]} }`).join(" ")}`;

const common = ["InvalidInput", "LimitExceeded", "IdempotencyConflict"];
const holdProblemFields = problemsOf(
  ...common,
  "InsufficientFunds",
  "BalanceLimitExceeded",
  "UnbalancedTransfer",
  "CurrencyMismatch",
  "AccountNotFound",
  "AmountOverflow",
);
const settleProblemFields = problemsOf(...common, "HoldNotFound", "HoldExpired", "HoldNotOpen", "CaptureExceedsRemaining");
const reverseProblemFields = problemsOf(
  ...common,
  "TransferNotFound",
  "NotReversible",
  "ReversalExceedsRemaining",
  "InsufficientFunds",
  "BalanceLimitExceeded",
  "AmountOverflow",
);

export const createHoldMutation = `mutation($input: CreateHoldInput!) { createHold(input: $input) {
  __typename ... on HoldCreated { replay hold { ${holdFields} } ${balancesFields} } ${holdProblemFields} } }`;
export const captureHoldMutation = `mutation($input: CaptureHoldInput!) { captureHold(input: $input) {
  __typename ... on HoldCaptured { replay hold { ${holdFields} } transfer { id hold { id } entries { kind amount direction account { id } } } ${balancesFields} } ${settleProblemFields} } }`;
export const voidHoldMutation = `mutation($input: VoidHoldInput!) { voidHold(input: $input) {
  __typename ... on HoldVoided { replay hold { ${holdFields} } ${balancesFields} } ${settleProblemFields.replace(/\.\.\. on CaptureExceedsRemaining \{[^}]*\}/, "")} } }`;
export const reverseTransferMutation = `mutation($input: ReverseTransferInput!) { reverseTransfer(input: $input) {
  __typename ... on TransferReversed { replay transfer { id forced reverses { id reversedBy { id } } entries { direction amount account { id } } } ${balancesFields} } ${reverseProblemFields} } }`;

export async function createHold(tenant: TestTenant, input: Record<string, unknown>) {
  const data = await tenant.gql(createHoldMutation, { input: { idempotencyKey: key("hold"), expiresInSeconds: 3600, ...input } });
  return data.createHold;
}

export async function captureHold(tenant: TestTenant, holdId: string, input: Record<string, unknown> = {}) {
  const data = await tenant.gql(captureHoldMutation, { input: { idempotencyKey: key("capture"), holdId, ...input } });
  return data.captureHold;
}

export async function voidHold(tenant: TestTenant, holdId: string, input: Record<string, unknown> = {}) {
  const data = await tenant.gql(voidHoldMutation, { input: { idempotencyKey: key("void"), holdId, ...input } });
  return data.voidHold;
}

export async function reverseTransfer(tenant: TestTenant, transferId: string, input: Record<string, unknown> = {}) {
  const data = await tenant.gql(reverseTransferMutation, { input: { idempotencyKey: key("reverse"), transferId, ...input } });
  return data.reverseTransfer;
}

export async function fullBalanceOf(tenant: TestTenant, accountId: string, asOf?: string) {
  const data = await tenant.gql(`query($id: ID!, $asOf: DateTime) { account(id: $id) { balance(asOf: $asOf) { ${balanceFields} } } }`, {
    id: accountId,
    asOf,
  });
  return data.account.balance as Record<
    "posted" | "pending" | "available" | "debitsPosted" | "creditsPosted" | "debitsPending" | "creditsPending" | "version",
    string
  >;
}

// ------------------------------------------------------------------ access tokens

export const createAccessTokenMutation = `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) {
  __typename ... on AccessTokenCreated { token scope accountIds expiresAt }
  ... on Problem { code message } ... on InvalidInput { field reason } ... on LimitExceeded { limit max } ... on AccountNotFound { account } } }`;

/** Mints a token with the tenant's API key; fails the test unless one is made. */
export async function mintToken(
  tenant: TestTenant,
  input: { scope: "READ_ONLY" | "READ_WRITE"; accountIds?: string[]; ttlSeconds?: number },
): Promise<string> {
  const data = await tenant.gql(createAccessTokenMutation, { input });
  if (data.createAccessToken.__typename !== "AccessTokenCreated") throw new Error(JSON.stringify(data.createAccessToken));
  return data.createAccessToken.token;
}

// ------------------------------------------------------------------ lean documents (bench/)

/**
 * What the benchmark sends (bench/): each selects only the result's type, the new object's id and
 * a problem's code, so a measured request costs the write and not a large answer. Keyed by field.
 */
export const leanDocuments = {
  postTransfer: `mutation PostTransfer($input: TransferInput!) {
  postTransfer(input: $input) {
    __typename
    ... on TransferPosted { transfer { id } }
    ... on Problem { code }
  }
}`,
  postTransfers: `mutation PostTransfers($input: PostTransfersInput!) {
  postTransfers(input: $input) {
    __typename
    ... on TransfersPosted {
      allSucceeded
      results {
        __typename
        ... on TransferPosted { transfer { id } }
        ... on Problem { code }
      }
    }
    ... on Problem { code message }
  }
}`,
  createHold: `mutation H($input: CreateHoldInput!) { createHold(input: $input) { __typename ... on HoldCreated { hold { id } } ... on Problem { code } } }`,
  captureHold: `mutation C($input: CaptureHoldInput!) { captureHold(input: $input) { __typename ... on HoldCaptured { transfer { id } } ... on Problem { code } } }`,
  voidHold: `mutation V($input: VoidHoldInput!) { voidHold(input: $input) { __typename ... on HoldVoided { hold { id } } ... on Problem { code } } }`,
  reverseTransfer: `mutation R($input: ReverseTransferInput!) { reverseTransfer(input: $input) { __typename ... on TransferReversed { transfer { id } } ... on Problem { code } } }`,
  balanceAsOf: `query AsOf($id: ID!, $asOf: DateTime!) { account(id: $id) { balance(asOf: $asOf) { posted pending available version } } }`,
  balanceChanged: `subscription Live($ids: [ID!]!) { balanceChanged(accountIds: $ids) { version account { id } transfer { id } } }`,
};
