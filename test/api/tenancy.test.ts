// Tenant isolation and authentication through the GraphQL API over HTTP.
import { randomBytes } from "node:crypto";
import {
  accountById,
  accountInput,
  accountReads,
  create,
  createAccountMutation,
  createCurrency,
  currencyCode,
  unknownAccountId,
  update,
} from "../support/accounts-api.js";
import {
  assertResult,
  createAccount,
  createFundingAccount,
  expectResult,
  key,
  postTransfer,
  transferBetween,
} from "../support/ledger-client.js";
import { hashApiKey, revokeApiKey } from "../../src/ledger/tenants.js";
import { beforeAll, describe, expect, it } from "vitest";
import { type TestTenant, useFundedTenant, useTestService } from "../support/service.js";
import { print } from "graphql";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "tenancy");
const { tenantState } = accountReads(service);

// ------------------------------------------------------------------ tenant isolation

describe("tenant isolation", () => {
  let other: TestTenant;
  let foreign: { id: string; code: string };
  let foreignTransfer: { id: string; entries: { id: string }[] };
  let otherFunding: { id: string };

  beforeAll(async () => {
    other = await service.newTenant("isolation-b");
    otherFunding = await createFundingAccount(other);
    foreign = await createAccount(tenant, { code: key("private") });
    const posted = await transferBetween(tenant, funding.id, foreign.id, "700");
    assertResult(posted, "TransferPosted");
    foreignTransfer = posted.transfer;
  });

  it("does not show another tenant's account by id, by code or through node", async () => {
    const data = await other.gql(
      `query($id: ID!, $code: String!) { byId: account(id: $id) { id } byCode: account(code: $code) { id } node(id: $id) { id } }`,
      { id: foreign.id, code: foreign.code },
    );
    expect(data).toEqual({ byId: null, byCode: null, node: null });
  });

  it("does not show another tenant's transfer or entries through transfer(id) or node", async () => {
    const data = await other.gql(`query($t: ID!, $e: ID!) { transfer(id: $t) { id } t: node(id: $t) { id } e: node(id: $e) { id } }`, {
      t: foreignTransfer.id,
      e: foreignTransfer.entries[0]!.id,
    });
    expect(data).toEqual({ transfer: null, t: null, e: null });
  });

  it("does not list another tenant's accounts or transfers", async () => {
    const data = await other.gql(
      `query($prefix: String, $id: ID) {
        prefixed: accounts(first: 100, filter: { codePrefix: $prefix }) { nodes { id } }
        all: accounts(first: 100) { nodes { id } }
        transfers(first: 100) { nodes { id } }
        filtered: transfers(first: 100, filter: { accountId: $id }) { nodes { id } }
      }`,
      { prefix: foreign.code, id: foreign.id },
    );
    expect(data.prefixed.nodes).toEqual([]);
    expect(data.all.nodes.map((n: { id: string }) => n.id)).toEqual([otherFunding.id]);
    expect(data.transfers.nodes).toEqual([]);
    expect(data.filtered.nodes).toEqual([]);
  });

  it("answers AccountNotFound for another tenant's account in a transfer, exactly as for an unknown id", async () => {
    const beforeA = await tenantState(tenant.id);
    const beforeB = await tenantState(other.id);

    const unknown = unknownAccountId();
    const foreignResult = await transferBetween(other, otherFunding.id, foreign.id, "10");
    const unknownResult = await transferBetween(other, otherFunding.id, unknown, "10");
    const byCode = await postTransfer(other, { from: { id: otherFunding.id }, to: { code: foreign.code }, amount: "10", currency: "USD" });

    expect(foreignResult).toMatchObject({
      __typename: "AccountNotFound",
      code: "AccountNotFound",
      account: foreign.id,
      legIndex: 1,
      replay: false,
    });
    expect(unknownResult).toMatchObject({ __typename: "AccountNotFound", account: unknown, legIndex: 1, replay: false });
    expect(byCode).toMatchObject({ __typename: "AccountNotFound", account: foreign.code, legIndex: 1 });
    // Same shape: nothing tells a foreign account from one that does not exist.
    const shape = (r: Record<string, unknown>) => ({
      ...r,
      account: "<id>",
      message: String(r.message).replace(String(r.account), "<id>"),
    });
    expect(shape(foreignResult)).toEqual(shape(unknownResult));

    expect(await tenantState(tenant.id)).toEqual(beforeA);
    expect(await tenantState(other.id)).toEqual(beforeB);
  });

  it("answers AccountNotFound when updating another tenant's account, which stays unchanged", async () => {
    const before = await tenantState(tenant.id);
    const result = await update(other, { id: foreign.id, name: "Hijacked", minBalance: null });
    expect(result).toMatchObject({ __typename: "AccountNotFound", account: foreign.id, replay: false });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect((await accountById(tenant, foreign.id))?.name).toBe("Test account");
  });

  it("keeps codes, idempotency keys and custom currencies per tenant", async () => {
    const idempotencyKey = key("shared-key");
    const code = currencyCode();
    const mine = await create(tenant, accountInput({ idempotencyKey, code: key("same") }));
    assertResult(mine, "AccountCreated");
    // The other tenant may use the same key and the same code: no replay, no conflict, no AccountCodeTaken.
    const theirs = expectResult(await create(other, accountInput({ idempotencyKey, code: mine.account.code })), "AccountCreated");
    expect(theirs).toMatchObject({ __typename: "AccountCreated", replay: false, account: { code: mine.account.code } });
    expect(theirs.account.id).not.toBe(mine.account.id);

    expect((await createCurrency(tenant, { code, scale: 1 })).__typename).toBe("CurrencyCreated");
    expect((await other.gql(`query($code: String!) { currency(code: $code) { code } }`, { code })).currency).toBeNull();
    const { currencies } = await other.gql(`{ currencies { code } }`);
    expect(currencies.map((c: { code: string }) => c.code)).not.toContain(code);
    expect(await create(other, accountInput({ currency: code }))).toMatchObject({ __typename: "CurrencyNotFound", currency: code });
    expect(expectResult(await createCurrency(other, { code, scale: 4 }), "CurrencyCreated").currency).toEqual({ code, scale: 4 });
  });
});

// ------------------------------------------------------------------ authentication

describe("authentication", () => {
  const query = `{ limits { pageSizeMax } }`;

  it("answers a request without an Authorization header with HTTP 401 UNAUTHENTICATED", async () => {
    const response = await service.post({ query });
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it.each<[string, () => string]>([
    ["an unknown key", () => `Bearer lk_${randomBytes(32).toString("base64url")}`],
    ["a key without the lk_ prefix", () => `Bearer ${randomBytes(32).toString("base64url")}`],
    ["another scheme", () => `Basic ${Buffer.from("user:pass").toString("base64")}`],
    ["a bare key without Bearer", () => tenant.key],
    ["an empty bearer", () => "Bearer "],
  ])("answers %s with HTTP 401 UNAUTHENTICATED", async (_, header) => {
    const response = await service.post({ query }, { authorization: header() });
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("does no work for an unauthenticated mutation", async () => {
    const input = accountInput();
    const response = await service.post(
      { query: print(createAccountMutation), variables: { input } },
      { authorization: "Bearer lk_wrong" },
    );
    expect(response.status).toBe(401);
    const { rows } = await service.db.pool.query(`SELECT count(*)::int AS n FROM accounts WHERE code = $1`, [input.code]);
    expect(rows[0].n).toBe(0);
  });

  it("answers a revoked key with HTTP 401 from the next request on", async () => {
    const revoked = await service.newTenant("revoked");
    expect((await revoked.request(query)).status).toBe(200);
    const apiKey = await service.db.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: hashApiKey(revoked.key) } });
    expect(await revokeApiKey(service.db, apiKey.id)).toBe(1);

    const response = await revoked.request(query);
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // Other tenants' keys are untouched.
    expect((await tenant.request(query)).status).toBe(200);
  });
});
