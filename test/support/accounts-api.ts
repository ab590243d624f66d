// Account and currency operations through the API, shared by the account, currency and tenancy tests.
import { randomBytes, randomUUID } from "node:crypto";
import {
  AccountByIdDocument,
  AccountFieldsFragmentDoc,
  CreateAccountInFullDocument,
  type CreateAccountInput,
  CreateCurrencyDocument,
  type CreateCurrencyInput,
  UpdateAccountDocument,
  type UpdateAccountInput,
} from "../generated/operations.js";
import { fieldsOf } from "./graphql-document.js";
import { key, type Keyed } from "./ledger-client.js";
import { ledgerState } from "./ledger-state.js";
import type { TestService, TestTenant } from "./service.js";

// The documents are in test/support/documents/accounts.graphql, typed by `npm run codegen`.

/** The fields of an account the account tests read, for inline query strings. */
export const accountFields = fieldsOf(AccountFieldsFragmentDoc);

export const createAccountMutation = CreateAccountInFullDocument;

export const updateAccountMutation = UpdateAccountDocument;

export const createCurrencyMutation = CreateCurrencyDocument;

export const accountInput = (over: Partial<CreateAccountInput> = {}): CreateAccountInput => ({
  idempotencyKey: key("create"),
  code: key("acct"),
  name: "Shirtypuff available",
  currency: "USD",
  normalSide: "CREDIT",
  ...over,
});

export async function create(t: TestTenant, input: CreateAccountInput) {
  return (await t.gql(createAccountMutation, { input })).createAccount;
}

/** The result, with AccountUpdated's aliased account (it would clash with AccountNotFound.account) under `account`. */
export async function update(t: TestTenant, input: Keyed<UpdateAccountInput>) {
  const result = (await t.gql(updateAccountMutation, { input: { idempotencyKey: key("update"), ...input } })).updateAccount;
  if (result.__typename !== "AccountUpdated") return result;
  const { updated, ...rest } = result;
  return { ...rest, account: updated };
}

/** The result, with CurrencyCreated's aliased currency (it would clash with CurrencyCodeTaken.currency) under `currency`. */
export async function createCurrency(t: TestTenant, input: Keyed<CreateCurrencyInput>) {
  const result = (await t.gql(createCurrencyMutation, { input: { idempotencyKey: key("currency"), ...input } })).createCurrency;
  if (result.__typename !== "CurrencyCreated") return result;
  const { created, ...rest } = result;
  return { ...rest, currency: created };
}

export async function accountById(t: TestTenant, id: string) {
  return (await t.gql(AccountByIdDocument, { id })).account;
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
