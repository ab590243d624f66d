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
  ... on DuplicateAccount { accountId legIndex }
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
  currency?: string;
  normalSide?: "DEBIT" | "CREDIT";
  minBalance?: string | null;
  maxBalance?: string | null;
  metadata?: Record<string, unknown>;
}

export async function createAccount(tenant: TestTenant, spec: AccountSpec = {}): Promise<{ id: string; code: string }> {
  const input: Record<string, unknown> = {
    idempotencyKey: key("acct"),
    code: spec.code ?? key("acct"),
    name: "Test account",
    currency: spec.currency ?? "USD",
    normalSide: spec.normalSide ?? "CREDIT",
    ...(spec.minBalance !== undefined ? { minBalance: spec.minBalance } : {}),
    ...(spec.maxBalance !== undefined ? { maxBalance: spec.maxBalance } : {}),
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
  };
  const data = await tenant.gql(
    `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on AccountCreated { account { id code } } ... on Problem { code message } } }`,
    { input },
  );
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
  const data = await tenant.gql(`query($id: ID!) { account(id: $id) { balance { posted pending available debitsPosted creditsPosted version } } }`, { id: accountId });
  return data.account.balance as { posted: string; pending: string; available: string; debitsPosted: string; creditsPosted: string; version: string };
}
