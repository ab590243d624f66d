// Short-lived access tokens through the real service: minting, scope, account limits over HTTP
// and WebSocket, expiry, revocation and forgery. Refused writes change nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../src/ledger/tenants.js";
import { checkInvariants } from "../support/invariants.js";
import {
  captureHold,
  createAccessTokenMutation,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  fullBalanceOf,
  key,
  mintToken,
  postTransferMutation,
  reverseTransfer,
  transferBetween,
} from "../support/ledger-client.js";
import { connectLive, type LiveClient } from "../support/live-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";
import type { CreateAccessTokenInput } from "../generated/operations.js";

let service: TestService;
let tenant: TestTenant;
let other: TestTenant;
let funding: string;
let merchant: { id: string; code: string };
let payout: { id: string; code: string };
let outsider: { id: string; code: string };
const clients: LiveClient[] = [];

const live = (bearer: string) => {
  const client = connectLive(service.service.url, bearer);
  clients.push(client);
  return client;
};
const codesOf = (response: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  (response.errors ?? []).map((e) => e.extensions?.code);
const mint = (input: CreateAccessTokenInput) => tenant.request(createAccessTokenMutation, { input });

beforeAll(async () => {
  service = await startTestService({ accessTokenTtlMaxSeconds: 600, accessTokenAccountsMax: 3 }, { authRecheckMs: 100 });
  tenant = await service.newTenant("tokens");
  other = await service.newTenant("someone else");
  funding = (await createFundingAccount(tenant)).id;
  merchant = await createAccount(tenant, { code: key("merchant") });
  payout = await createAccount(tenant, { code: key("payout") });
  outsider = await createAccount(tenant, { code: key("outsider") });
  await transferBetween(tenant, funding, merchant.id, "10000");
  await transferBetween(tenant, funding, outsider.id, "5000");
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await checkInvariants(service.db.pool);
  await service.stop();
});

describe("createAccessToken", () => {
  it("mints a token that expires within the requested TTL and reports its scope and accounts", async () => {
    const before = Date.now();
    const response = await mint({ scope: "READ_ONLY", accountIds: [merchant.id], ttlSeconds: 120 });
    const created = expectResult(response.data!.createAccessToken, "AccessTokenCreated");
    expect(created).toMatchObject({ __typename: "AccessTokenCreated", scope: "READ_ONLY", accountIds: [merchant.id] });
    expect(created.token).toMatch(/^lat_[\w-]+\.[\w-]+$/);
    const expiresAt = Date.parse(created.expiresAt);
    expect(expiresAt).toBeGreaterThan(before + 118_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it("keeps the exact expiry instant: a 1-second token expires no earlier than 1 s after it was asked for", async () => {
    const before = Date.now();
    const created = expectResult((await mint({ scope: "READ_ONLY", ttlSeconds: 1 })).data!.createAccessToken, "AccessTokenCreated");
    const after = Date.now();
    const expiresAt = Date.parse(created.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 1000);
    const viewer = await service.as(tenant, created.token).gql(`{ viewer { expiresAt } }`);
    expect(Date.parse(viewer.viewer.expiresAt)).toBe(expiresAt);
  });

  it("answers bad requests with typed problems", async () => {
    const cases: [CreateAccessTokenInput, Record<string, unknown>][] = [
      [
        { scope: "READ_ONLY", ttlSeconds: 0 },
        { code: "InvalidInput", field: "ttlSeconds", reason: "TTL_OUT_OF_RANGE" },
      ],
      [
        { scope: "READ_ONLY", ttlSeconds: 601 },
        { code: "LimitExceeded", limit: "accessTokenTtlMaxSeconds", max: "600" },
      ],
      [
        { scope: "READ_ONLY", accountIds: [] },
        { code: "InvalidInput", field: "accountIds", reason: "EMPTY" },
      ],
      [
        { scope: "READ_ONLY", accountIds: [funding, merchant.id, payout.id, outsider.id] },
        { code: "LimitExceeded", limit: "accessTokenAccountsMax" },
      ],
      [
        { scope: "READ_ONLY", accountIds: ["acct_00000000-0000-4000-8000-000000000000"] },
        { code: "AccountNotFound", account: "acct_00000000-0000-4000-8000-000000000000" },
      ],
      [
        { scope: "READ_ONLY", accountIds: ["not an id"] },
        { code: "AccountNotFound", account: "not an id" },
      ],
    ];
    for (const [input, problem] of cases) {
      const response = await mint(input);
      expect(response.errors, JSON.stringify(input)).toBeUndefined();
      expect(response.data!.createAccessToken, JSON.stringify(input)).toMatchObject(problem);
    }
  });

  it("refuses another tenant's account as if it did not exist", async () => {
    const theirs = await createAccount(other, { code: key("theirs") });
    const response = await mint({ scope: "READ_ONLY", accountIds: [theirs.id] });
    expect(response.data!.createAccessToken).toMatchObject({ code: "AccountNotFound", account: theirs.id });
  });

  it("cannot be called with an access token, even a read-write one", async () => {
    const token = await mintToken(tenant, { scope: "READ_WRITE" });
    const response = await service.as(tenant, token).request(createAccessTokenMutation, { input: { scope: "READ_ONLY" } });
    expect(codesOf(response)).toEqual(["FORBIDDEN"]);
    expect(response.data).toBeNull();
  });
});

describe("an access token over HTTP", () => {
  it("reads like its API key and tells who it is", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", ttlSeconds: 300 });
    const reader = service.as(tenant, token);
    const data = await reader.gql(
      `query($id: ID!) { viewer { credential scope accountIds expiresAt } account(id: $id) { balance { posted } } }`,
      { id: merchant.id },
    );
    expect(data.viewer).toMatchObject({ credential: "ACCESS_TOKEN", scope: "READ_ONLY", accountIds: null });
    expect(data.account.balance.posted).toBe("10000");
    const keyView = await tenant.gql(`{ viewer { credential scope accountIds expiresAt } }`);
    expect(keyView.viewer).toEqual({ credential: "API_KEY", scope: "READ_WRITE", accountIds: null, expiresAt: null });
  });

  it("refuses every mutation of a read-only token and changes nothing", async () => {
    const reader = service.as(tenant, await mintToken(tenant, { scope: "READ_ONLY" }));
    const before = await fullBalanceOf(tenant, merchant.id);
    const response = await reader.request(postTransferMutation, {
      input: { idempotencyKey: key("ro"), from: { id: merchant.id }, to: { id: payout.id }, amount: "100", currency: "USD" },
    });
    expect(codesOf(response)).toEqual(["FORBIDDEN"]);
    expect(response.errors![0]!.message).toMatch(/read-only/);
    const created = await reader.request(
      `mutation { createAccount(input: { idempotencyKey: "x", code: "ro-made", name: "n", currency: "USD", normalSide: CREDIT }) { __typename } }`,
    );
    expect(codesOf(created)).toEqual(["FORBIDDEN"]);
    expect(await fullBalanceOf(tenant, merchant.id)).toEqual(before);
    expect((await tenant.gql(`{ account(code: "ro-made") { id } }`)).account).toBeNull();
  });

  it("limited to accounts, sees only them: others read as unknown", async () => {
    const reader = service.as(tenant, await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant.id] }));
    const data = await reader.gql(
      `query($mine: ID!, $theirs: ID!, $code: String!) {
      mine: account(id: $mine) { id balance { posted } }
      theirs: account(id: $theirs) { id }
      byCode: account(code: $code) { id }
      node(id: $theirs) { id }
      accounts(first: 100) { nodes { id } }
      viewer { accountIds }
    }`,
      { mine: merchant.id, theirs: outsider.id, code: outsider.code },
    );
    expect(data.mine).toEqual({ id: merchant.id, balance: { posted: "10000" } });
    expect(data.theirs).toBeNull();
    expect(data.byCode).toBeNull();
    expect(data.node).toBeNull();
    expect(data.accounts.nodes).toEqual([{ id: merchant.id }]);
    expect(data.viewer.accountIds).toEqual([merchant.id]);
  });

  it("limited to accounts, sees transfers that touch them but not the counterparty's money", async () => {
    const posted = expectResult(await transferBetween(tenant, funding, merchant.id, "250"), "TransferPosted");
    const hidden = expectResult(await transferBetween(tenant, funding, outsider.id, "1"), "TransferPosted");
    const reader = service.as(tenant, await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant.id] }));
    const seen = await reader.gql(
      `query($id: ID!, $hidden: ID!, $acct: ID!) {
      transfer(id: $id) { id entries { account { id code } amount } }
      hiddenTransfer: transfer(id: $hidden) { id }
      transfers(filter: { accountId: $acct }, first: 1) { nodes { id } }
    }`,
      { id: posted.transfer.id, hidden: hidden.transfer.id, acct: merchant.id },
    );
    expect(seen.transfer.entries.map((e: { account: { id: string } }) => e.account.id).sort()).toEqual([funding, merchant.id].sort());
    expect(seen.hiddenTransfer).toBeNull();
    expect(seen.transfers.nodes).toEqual([{ id: posted.transfer.id }]);

    const counterparty = await reader.request(
      `query($id: ID!) { transfer(id: $id) { entries { account { id balance { posted } } balanceAfter { posted } } } }`,
      { id: posted.transfer.id },
    );
    expect(codesOf(counterparty)).toContain("FORBIDDEN");
    expect(JSON.stringify(counterparty.data)).not.toContain("-"); // no negative funding balance leaked

    const everything = await reader.request(`{ transfers(first: 5) { nodes { id } } }`);
    expect(codesOf(everything)).toEqual(["FORBIDDEN"]);
  });

  it("limited to accounts and read-write, moves money only between them", async () => {
    const writer = service.as(tenant, await mintToken(tenant, { scope: "READ_WRITE", accountIds: [merchant.id, payout.id] }));
    const ok = await writer.gql(postTransferMutation, {
      input: { idempotencyKey: key("rw"), from: { code: merchant.code }, to: { id: payout.id }, amount: "300", currency: "USD" },
    });
    expect(ok.postTransfer.__typename).toBe("TransferPosted");

    const before = await fullBalanceOf(tenant, merchant.id);
    const refusals = [
      { from: { id: merchant.id }, to: { id: outsider.id } },
      { from: { id: funding }, to: { id: merchant.id } },
      { from: { code: merchant.code }, to: { code: outsider.code } },
      { from: { id: merchant.id }, to: { code: "no-such-code" } },
    ];
    for (const refs of refusals) {
      const response = await writer.request(postTransferMutation, {
        input: { idempotencyKey: key("rw"), ...refs, amount: "1", currency: "USD" },
      });
      expect(codesOf(response), JSON.stringify(refs)).toEqual(["FORBIDDEN"]);
    }
    const account = await writer.request(
      `mutation { createAccount(input: { idempotencyKey: "y", code: "rw-made", name: "n", currency: "USD", normalSide: CREDIT }) { __typename } }`,
    );
    expect(codesOf(account)).toEqual(["FORBIDDEN"]);
    expect(await fullBalanceOf(tenant, merchant.id)).toEqual(before);

    // Holds and reversals follow the legs they act on.
    const hold = expectResult(
      await createHold(tenant, {
        from: { id: merchant.id },
        to: { id: payout.id },
        amount: "50",
        currency: "USD",
        expiresInSeconds: 600,
      }),
      "HoldCreated",
    );
    const captured = await writer.gql(`mutation($input: CaptureHoldInput!) { captureHold(input: $input) { __typename } }`, {
      input: { idempotencyKey: key("cap"), holdId: hold.hold.id },
    });
    expect(captured.captureHold.__typename).toBe("HoldCaptured");
    const foreignHold = expectResult(
      await createHold(tenant, {
        from: { id: outsider.id },
        to: { id: merchant.id },
        amount: "5",
        currency: "USD",
        expiresInSeconds: 600,
      }),
      "HoldCreated",
    );
    const refused = await writer.request(`mutation($input: VoidHoldInput!) { voidHold(input: $input) { __typename } }`, {
      input: { idempotencyKey: key("void"), holdId: foreignHold.hold.id },
    });
    expect(codesOf(refused)).toEqual(["FORBIDDEN"]);
    expect((await captureHold(tenant, foreignHold.hold.id)).__typename).toBe("HoldCaptured"); // still open: the refusal changed nothing
    const fundingLeg = expectResult(await transferBetween(tenant, funding, merchant.id, "7"), "TransferPosted");
    const reversal = await writer.request(`mutation($input: ReverseTransferInput!) { reverseTransfer(input: $input) { __typename } }`, {
      input: { idempotencyKey: key("rev"), transferId: fundingLeg.transfer.id },
    });
    expect(codesOf(reversal)).toEqual(["FORBIDDEN"]);
    expect((await reverseTransfer(tenant, fundingLeg.transfer.id)).__typename).toBe("TransferReversed");
  });

  it("stops working when it expires (401) and when its API key is revoked", async () => {
    const short = await mintToken(tenant, { scope: "READ_ONLY", ttlSeconds: 1 });
    const reader = service.as(tenant, short);
    expect((await reader.request(`{ viewer { scope } }`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await reader.request(`{ viewer { scope } }`);
    expect(expired.status).toBe(401);
    expect(codesOf(expired)).toEqual(["UNAUTHENTICATED"]);

    const { key: spareKey, apiKey } = await createApiKey(service.db, tenant.id, "spare");
    const token = await mintToken(service.as(tenant, spareKey), { scope: "READ_ONLY" });
    expect((await service.as(tenant, token).request(`{ viewer { scope } }`)).status).toBe(200);
    expect(await revokeApiKey(service.db, apiKey.id)).toBe(1);
    expect((await service.as(tenant, token).request(`{ viewer { scope } }`)).status).toBe(401);
  });

  it("is accepted by every instance on the database (the signing secret is shared)", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", ttlSeconds: 60 });
    const second = await startTestService();
    try {
      const response = await second.as(tenant, token).request(`query($id: ID!) { account(id: $id) { id } }`, { id: merchant.id });
      expect(response.data).toEqual({ account: { id: merchant.id } });
    } finally {
      await second.stop();
    }
  });

  it("refuses a forged or altered token", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant.id] });
    const [body, signature] = token.slice(4).split(".") as [string, string];
    const payload = JSON.parse(Buffer.from(body, "base64url").toString());
    const widened = Buffer.from(JSON.stringify({ ...payload, s: "rw", a: null })).toString("base64url");
    for (const forged of [`lat_${widened}.${signature}`, `lat_${body}.${signature.slice(1)}A`, "lat_x.y", "Bearer-less"]) {
      const response = await service.as(tenant, forged).request(`{ viewer { scope } }`);
      expect(response.status, forged).toBe(401);
    }
  });
});

describe("an access token over WebSocket", () => {
  const balanceChanged = `subscription($ids: [ID!]!) { balanceChanged(accountIds: $ids) { version balance { posted } } }`;

  it("subscribes to its accounts and is closed with 4401 when it expires", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant.id], ttlSeconds: 2 });
    const expiresAt = Date.now() + 2000;
    const client = live(token);
    const events = client.subscribe(balanceChanged, { ids: [merchant.id] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await transferBetween(tenant, funding, merchant.id, "11");
    await events.waitFor(1);
    const code = await client.closed(5000);
    expect(code).toBe(4401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 1000); // closed at expiry, not before
  });

  it("refuses accounts outside the token like unknown ones, and unfiltered tenant-wide feeds", async () => {
    const client = live(await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant.id] }));
    const outside = client.subscribe(balanceChanged, { ids: [merchant.id, outsider.id] });
    await outside.ended();
    expect(outside.errors).toMatchObject([{ extensions: { code: "BAD_USER_INPUT" } }]);
    expect(JSON.stringify(outside.errors)).toContain(outsider.id);

    const wide = client.subscribe(`subscription { transferPosted { id } }`);
    await wide.ended();
    expect(wide.errors).toMatchObject([{ extensions: { code: "FORBIDDEN" } }]);

    const filtered = client.subscribe(`subscription($id: ID!) { transferPosted(filter: { accountId: $id }) { id } }`, { id: merchant.id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const posted = expectResult(await transferBetween(tenant, funding, merchant.id, "3"), "TransferPosted");
    await transferBetween(tenant, funding, outsider.id, "3");
    const [event] = await filtered.waitFor(1);
    expect(event).toEqual({ transferPosted: { id: posted.transfer.id } });
  });

  it("a read-only token's mutation over the socket is refused", async () => {
    const client = live(await mintToken(tenant, { scope: "READ_ONLY" }));
    const attempt = client.subscribe(postTransferMutation, {
      input: { idempotencyKey: key("ws"), from: { id: merchant.id }, to: { id: payout.id }, amount: "1", currency: "USD" },
    });
    await attempt.ended();
    expect(attempt.errors).toMatchObject([{ extensions: { code: "FORBIDDEN" } }]);
  });

  it("an expired token cannot connect", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await live(token).closed()).toBe(4401);
  });
});
