// Account and currency operations through the API, shared by the account, currency and tenancy tests.
import { randomBytes, randomUUID } from "node:crypto";
import { key } from "./ledger-client.js";
import { ledgerState } from "./ledger-state.js";
import type { TestService, TestTenant } from "./service.js";

export const accountFields = `id code name currency { code scale } normalSide minBalance maxBalance metadata createdAt
  balance { posted pending available debitsPosted creditsPosted version }`;

export const createAccountMutation = `mutation Create($input: CreateAccountInput!) {
  createAccount(input: $input) {
    __typename
    ... on AccountCreated { replay account { ${accountFields} } }
    ... on Problem { code message }
    ... on InvalidInput { field reason }
    ... on LimitExceeded { limit max }
    ... on AccountCodeTaken { accountCode replay }
    ... on CurrencyNotFound { currency replay }
    ... on IdempotencyConflict { idempotencyKey replay }
  }
}`;

export const updateAccountMutation = `mutation Update($input: UpdateAccountInput!) {
  updateAccount(input: $input) {
    __typename
    ... on AccountUpdated { replay updated: account { ${accountFields} } }
    ... on Problem { code message }
    ... on InvalidInput { field reason }
    ... on LimitExceeded { limit max }
    ... on AccountNotFound { account legIndex replay }
    ... on BoundsViolated { accountId balance replay }
    ... on IdempotencyConflict { idempotencyKey replay }
  }
}`;

export const createCurrencyMutation = `mutation Currency($input: CreateCurrencyInput!) {
  createCurrency(input: $input) {
    __typename
    ... on CurrencyCreated { replay created: currency { code scale } }
    ... on Problem { code message }
    ... on InvalidInput { field reason }
    ... on CurrencyCodeTaken { currency replay }
    ... on IdempotencyConflict { idempotencyKey replay }
  }
}`;

export const accountInput = (over: Record<string, unknown> = {}) => ({
  idempotencyKey: key("create"),
  code: key("acct"),
  name: "Shirtypuff available",
  currency: "USD",
  normalSide: "CREDIT",
  ...over,
});

export async function create(t: TestTenant, input: Record<string, unknown>) {
  return (await t.gql(createAccountMutation, { input })).createAccount;
}

/** The result, with AccountUpdated's aliased account (it would clash with AccountNotFound.account) under `account`. */
export async function update(t: TestTenant, input: Record<string, unknown>) {
  const { updated, ...result } = (await t.gql(updateAccountMutation, { input: { idempotencyKey: key("update"), ...input } })).updateAccount;
  return updated === undefined ? result : { ...result, account: updated };
}

/** The result, with CurrencyCreated's aliased currency (it would clash with CurrencyCodeTaken.currency) under `currency`. */
export async function createCurrency(t: TestTenant, input: Record<string, unknown>) {
  const { created, ...result } = (await t.gql(createCurrencyMutation, { input: { idempotencyKey: key("currency"), ...input } }))
    .createCurrency;
  return created === undefined ? result : { ...result, currency: created };
}

export async function accountById(t: TestTenant, id: string) {
  return (await t.gql(`query($id: ID!) { account(id: $id) { ${accountFields} } }`, { id })).account;
}

/** Straight-from-PostgreSQL reads for checking what a call wrote (or did not). */
export const accountReads = (service: TestService) => ({
  /** Rows with this code in this tenant. */
  async accountRows(tenantId: string, code: string) {
    const { rows } = await service.db.pool.query(
      `SELECT id, name, min_balance::text, max_balance::text, metadata FROM accounts WHERE tenant_id = $1 AND code = $2`,
      [tenantId, code],
    );
    return rows as { id: string; name: string; min_balance: string | null; max_balance: string | null; metadata: unknown }[];
  },
  tenantState: (tenantId: string) => ledgerState(service.db.pool, tenantId),
});

export const rawId = (globalId: string) => globalId.replace(/^acct_/, "");
export const unknownAccountId = () => `acct_${randomUUID()}`;
/** A currency code no other test uses: ^[A-Z][A-Z0-9_]{2,15}$ */
export const currencyCode = () => `T${randomBytes(5).toString("hex").toUpperCase()}`;
export const isoInstant = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
