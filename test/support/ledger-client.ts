// Small helpers over the GraphQL API, so tests read as the behaviour they check. The documents are
// in test/support/documents/*.graphql; `npm run codegen` types them (test/generated/operations.ts),
// so what the helpers answer is typed by what each document selects.
import { randomUUID } from "node:crypto";
import { print, stripIgnoredCharacters } from "graphql";
import {
  BalanceDocument,
  BalanceFieldsFragmentDoc,
  CaptureHoldDocument,
  type CaptureHoldInput,
  CreateAccessTokenDocument,
  type CreateAccessTokenInput,
  CreateAccountDocument,
  type CreateAccountInput,
  CreateHoldDocument,
  type CreateHoldInput,
  FullBalanceDocument,
  HoldFieldsFragmentDoc,
  LeanBalanceAsOfDocument,
  LeanBalanceChangedDocument,
  LeanCaptureHoldDocument,
  LeanCreateHoldDocument,
  LeanPostTransferDocument,
  LeanPostTransfersDocument,
  LeanReverseTransferDocument,
  LeanVoidHoldDocument,
  PostDocument,
  PostManyDocument,
  ReverseTransferDocument,
  type ReverseTransferInput,
  type Side,
  type TransferInput,
  TransferResultFieldsFragmentDoc,
  VoidHoldDocument,
} from "../generated/operations.js";
import { fieldsOf } from "./graphql-document.js";
import type { TestTenant } from "./service.js";

export const key = (prefix = "k") => `${prefix}-${randomUUID()}`;

/** An input whose idempotency key the helper makes up unless it is given. */
export type Keyed<Input extends { idempotencyKey: string }> = Omit<Input, "idempotencyKey"> & { idempotencyKey?: string };

/** Fails the test unless the result is of this member of its union; the checker then knows it is. */
export function assertResult<Result extends { __typename: string }, Typename extends Result["__typename"]>(
  result: Result,
  typename: Typename,
): asserts result is Extract<Result, { __typename: Typename }> {
  if (result.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(result)}`);
}

/** The result, typed as the member of its union the test expects; fails the test if it is another. */
export function expectResult<Result extends { __typename: string }, Typename extends Result["__typename"]>(
  result: Result,
  typename: Typename,
): Extract<Result, { __typename: Typename }> {
  assertResult(result, typename);
  return result;
}

/** The value, or an error naming what was missing (a query's account that is not there). */
function found<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`${what} not found`);
  return value;
}

/** The fields of a postTransfer result (and of each postTransfers item), for inline query strings. */
export const transferResultFields = fieldsOf(TransferResultFieldsFragmentDoc);

export const postTransferMutation = PostDocument;

export const postTransfersMutation = PostManyDocument;

export interface AccountSpec {
  code?: string;
  name?: string;
  currency?: string;
  normalSide?: Side;
  minBalance?: string | null;
  maxBalance?: string | null;
  metadata?: Record<string, unknown>;
}

export const createAccountMutation = CreateAccountDocument;

export async function createAccount(tenant: TestTenant, spec: AccountSpec = {}): Promise<{ id: string; code: string }> {
  const input: CreateAccountInput = {
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
  return expectResult(data.createAccount, "AccountCreated").account;
}

/** An account that may go negative without bound: the source of money in tests. */
export const createFundingAccount = (tenant: TestTenant, currency = "USD") =>
  createAccount(tenant, { minBalance: null, currency, code: key("funding") });

export async function postTransfer(tenant: TestTenant, input: Keyed<TransferInput>) {
  const data = await tenant.gql(postTransferMutation, { input: { idempotencyKey: key("tr"), ...input } });
  return data.postTransfer;
}

export async function transferBetween(tenant: TestTenant, fromId: string, toId: string, amount: string, currency = "USD") {
  return postTransfer(tenant, { from: { id: fromId }, to: { id: toId }, amount, currency });
}

/** The account's balances without the pending debits and credits. */
export async function balanceOf(tenant: TestTenant, accountId: string) {
  const data = await tenant.gql(BalanceDocument, { id: accountId });
  return found(data.account, `account ${accountId}`).balance;
}

// ------------------------------------------------------------------ holds and reversals

/** Every total of a balance, for inline query strings. */
export const balanceFields = fieldsOf(BalanceFieldsFragmentDoc);

/** The fields of a hold the hold mutations select, for inline query strings. */
export const holdFields = fieldsOf(HoldFieldsFragmentDoc);

export const createHoldMutation = CreateHoldDocument;
export const captureHoldMutation = CaptureHoldDocument;
export const voidHoldMutation = VoidHoldDocument;
export const reverseTransferMutation = ReverseTransferDocument;

export async function createHold(tenant: TestTenant, input: Keyed<CreateHoldInput>) {
  const data = await tenant.gql(createHoldMutation, { input: { idempotencyKey: key("hold"), expiresInSeconds: 3600, ...input } });
  return data.createHold;
}

export async function captureHold(tenant: TestTenant, holdId: string, input: Omit<Keyed<CaptureHoldInput>, "holdId"> = {}) {
  const data = await tenant.gql(captureHoldMutation, { input: { idempotencyKey: key("capture"), holdId, ...input } });
  return data.captureHold;
}

export async function voidHold(tenant: TestTenant, holdId: string, input: { idempotencyKey?: string } = {}) {
  const data = await tenant.gql(voidHoldMutation, { input: { idempotencyKey: key("void"), holdId, ...input } });
  return data.voidHold;
}

export async function reverseTransfer(tenant: TestTenant, transferId: string, input: Omit<Keyed<ReverseTransferInput>, "transferId"> = {}) {
  const data = await tenant.gql(reverseTransferMutation, { input: { idempotencyKey: key("reverse"), transferId, ...input } });
  return data.reverseTransfer;
}

/** Every total of the account's balance, now or as of an instant. */
export async function fullBalanceOf(tenant: TestTenant, accountId: string, asOf?: string) {
  const data = await tenant.gql(FullBalanceDocument, { id: accountId, asOf });
  return found(data.account, `account ${accountId}`).balance;
}

// ------------------------------------------------------------------ access tokens

export const createAccessTokenMutation = CreateAccessTokenDocument;

/** Mints a token with the tenant's API key; fails the test unless one is made. */
export async function mintToken(tenant: TestTenant, input: CreateAccessTokenInput): Promise<string> {
  const data = await tenant.gql(createAccessTokenMutation, { input });
  return expectResult(data.createAccessToken, "AccessTokenCreated").token;
}

// ------------------------------------------------------------------ lean documents (bench/)

/** A document as the benchmark sends it: printed once, without ignored characters. */
const lean = (document: Parameters<typeof print>[0]) => stripIgnoredCharacters(print(document));

/**
 * What the benchmark sends (bench/, documents/lean.graphql): each selects only the result's type,
 * the new object's id and a problem's code, so a measured request costs the write and not a large
 * answer. Keyed by field; query strings, since the benchmark writes its request bodies itself.
 */
export const leanDocuments = {
  postTransfer: lean(LeanPostTransferDocument),
  postTransfers: lean(LeanPostTransfersDocument),
  createHold: lean(LeanCreateHoldDocument),
  captureHold: lean(LeanCaptureHoldDocument),
  voidHold: lean(LeanVoidHoldDocument),
  reverseTransfer: lean(LeanReverseTransferDocument),
  balanceAsOf: lean(LeanBalanceAsOfDocument),
  balanceChanged: lean(LeanBalanceChangedDocument),
};
