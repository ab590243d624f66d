// Live subscriptions over graphql-ws, through the real service on real PostgreSQL: delivery
// across instances, resume with afterVersion, filters, hold changes, authorization, limits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../src/ledger/tenants.js";
import { assert } from "../../src/domain/assert.js";
import { validateTransfer } from "../../src/domain/transfer.js";
import { transferCommand } from "../../src/ledger/transfers.js";
import { advanceClock, runExpiryJob } from "../support/clock.js";
import { checkInvariants } from "../support/invariants.js";
import {
  assertResult,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  fullBalanceOf,
  key,
  postTransfer,
  postTransfersMutation,
  reverseTransfer,
  transferBetween,
  voidHold,
} from "../support/ledger-client.js";
import { connectLive, until, type LiveClient } from "../support/live-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";
import { print } from "graphql";

let a: TestService;
let b: TestService;
let tenant: TestTenant;
let funding: string;
const clients: LiveClient[] = [];

const balanceChanged = `subscription($ids: [ID!]!, $after: [BigInt!]) {
  balanceChanged(accountIds: $ids, afterVersion: $after) {
    account { id } version replayed createdAt
    balance { posted pending available debitsPosted creditsPosted debitsPending creditsPending version }
    entry { kind amount direction } transfer { id } hold { id }
  }
}`;

type Change = {
  account: { id: string };
  version: string;
  replayed: boolean;
  balance: Record<string, string>;
  entry: { kind: string; amount: string; direction: string };
  transfer: { id: string } | null;
  hold: { id: string } | null;
};

function live(service: TestService, apiKey: string | null = tenant.key): LiveClient {
  const client = connectLive(service.service.url, apiKey);
  clients.push(client);
  return client;
}

/** Waits until `service` has a subscription open, and a little more for it to read its versions. */
async function settled(service: TestService, count = 1): Promise<void> {
  await until(() => service.service.hub.subscriptionCount() >= count, `${count} subscriptions`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const changesOf = (events: { balanceChanged: Change }[]) => events.map((e) => e.balanceChanged);

beforeAll(async () => {
  a = await startTestService({}, { connectionInitWaitTimeoutMs: 300, authRecheckMs: 50 });
  b = await startTestService();
  tenant = await a.newTenant("live");
  funding = (await createFundingAccount(tenant)).id;
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await checkInvariants(a.db.pool);
  await b?.stop();
  await a?.stop();
});

describe("balanceChanged", () => {
  it("delivers a transfer posted through instance A to a subscriber on instance B with the balances and version", async () => {
    const account = (await createAccount(tenant)).id;
    const subscription = live(b).subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account] });
    await settled(b);
    await transferBetween(tenant, funding, account, "1250");
    const posted = expectResult(await transferBetween(tenant, funding, account, "750"), "TransferPosted");
    const events = changesOf(await subscription.waitFor(2));
    const last = events.find((e) => e.transfer?.id === posted.transfer.id)!;
    expect(last).toMatchObject({
      account: { id: account },
      version: "2",
      replayed: false,
      balance: { posted: "2000", pending: "0", available: "2000", creditsPosted: "2000", debitsPosted: "0", version: "2" },
      entry: { kind: "POSTED", amount: "750", direction: "CREDIT" },
    });
    expect(events.map((e) => e.version)).toEqual(["1", "2"]);
  });

  it("without afterVersion starts after the version current when it subscribes", async () => {
    const account = (await createAccount(tenant)).id;
    await transferBetween(tenant, funding, account, "100");
    await transferBetween(tenant, funding, account, "100");
    const subscription = live(a).subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account] });
    await settled(a);
    await transferBetween(tenant, funding, account, "5");
    const [event] = changesOf(await subscription.waitFor(1));
    expect(event).toMatchObject({ version: "3", replayed: false, balance: { posted: "205" } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(subscription.events).toHaveLength(1);
  });

  it("resumes with afterVersion: every missed change arrives once and in order, then live ones follow", async () => {
    const account = (await createAccount(tenant)).id;
    const first = live(a);
    const subscription = first.subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account], after: ["0"] });
    for (const amount of ["1", "2", "3"]) await transferBetween(tenant, funding, account, amount);
    const seen = changesOf(await subscription.waitFor(3));
    await first.dispose();

    for (const amount of ["4", "5", "6", "7"]) await transferBetween(tenant, funding, account, amount);
    const resumed = live(b).subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account], after: [seen.at(-1)!.version] });
    const replayed = changesOf(await resumed.waitFor(4));
    expect(replayed.map((e) => [e.version, e.entry.amount, e.replayed])).toEqual([
      ["4", "4", true],
      ["5", "5", true],
      ["6", "6", true],
      ["7", "7", true],
    ]);
    await transferBetween(tenant, funding, account, "8");
    const all = changesOf(await resumed.waitFor(5));
    expect(all.map((e) => e.version)).toEqual(["4", "5", "6", "7", "8"]);
    expect(all[4]).toMatchObject({ replayed: false, balance: { posted: "36", version: "8" } });
  });

  it("replays across the seam while writes continue: no gap, no duplicate", async () => {
    const account = (await createAccount(tenant)).id;
    for (let i = 0; i < 250; i += 50) {
      await b.post(
        {
          query: print(postTransfersMutation),
          variables: {
            input: {
              atomic: true,
              transfers: Array.from({ length: 50 }, () => ({
                idempotencyKey: key("seam"),
                from: { id: funding },
                to: { id: account },
                amount: "1",
                currency: "USD",
              })),
            },
          },
        },
        { authorization: `Bearer ${tenant.key}` },
      );
    }
    const subscription = live(a).subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account], after: ["0"] });
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 10; i++) await transferBetween(tenant, funding, account, "1");
    });
    await Promise.all(writers);
    const events = changesOf(await subscription.waitFor(290));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(subscription.events).toHaveLength(290);
    expect(events.map((e) => Number(e.version))).toEqual(Array.from({ length: 290 }, (_, i) => i + 1));
    expect(events.at(-1)!.balance.posted).toBe("290");
  });

  it("reports holds, captures, releases and reversals as changes of the entry's kind, and nothing for refused writes", async () => {
    const payer = (await createAccount(tenant, { normalSide: "CREDIT", minBalance: "0" })).id;
    const shop = (await createAccount(tenant)).id;
    await transferBetween(tenant, funding, payer, "1000");
    const subscription = live(a).subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [payer, shop], after: ["1", "0"] });
    const hold = await createHold(tenant, { from: { id: payer }, to: { id: shop }, amount: "300", currency: "USD" });
    assertResult(hold, "HoldCreated");
    await captureHold(tenant, hold.hold.id, { amount: "100" });
    await voidHold(tenant, hold.hold.id);
    const refused = await transferBetween(tenant, payer, shop, "5000");
    expect(refused.__typename).toBe("InsufficientFunds");
    const posted = expectResult(await transferBetween(tenant, payer, shop, "50"), "TransferPosted");
    await reverseTransfer(tenant, posted.transfer.id);
    const events = changesOf(await subscription.waitFor(10));
    const ofPayer = events.filter((e) => e.account.id === payer);
    expect(ofPayer.map((e) => [e.version, e.entry.kind, e.entry.amount])).toEqual([
      ["2", "HOLD", "300"],
      ["3", "CAPTURE", "100"],
      ["4", "RELEASE", "200"],
      ["5", "POSTED", "50"],
      ["6", "POSTED", "50"],
    ]);
    expect(ofPayer[0]).toMatchObject({
      hold: { id: hold.hold.id },
      transfer: null,
      balance: { posted: "1000", pending: "-300", available: "700" },
    });
    expect(ofPayer.at(-1)!.balance).toMatchObject({ posted: "900", pending: "0", available: "900" });
    expect(events.filter((e) => e.account.id === shop).map((e) => e.version)).toEqual(["1", "2", "3", "4", "5"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(subscription.events).toHaveLength(10);
  });

  it("refuses another tenant's account exactly as an unknown one", async () => {
    const other = await a.newTenant("other");
    const foreign = (await createAccount(other)).id;
    const unknown = "acct_00000000-0000-4000-8000-000000000000";
    const refusals = [];
    for (const id of [foreign, unknown]) {
      const subscription = live(a).subscribe(balanceChanged, { ids: [id] });
      await subscription.ended();
      expect(subscription.events).toEqual([]);
      refusals.push(JSON.parse(JSON.stringify(subscription.errors).replaceAll(id, "<id>")));
    }
    expect(refusals[0]).toEqual(refusals[1]);
    expect(refusals[0][0].extensions).toEqual({ code: "BAD_USER_INPUT", reason: "AccountNotFound" });
  });

  it("refuses bad arguments with a reason: no accounts, too many, duplicates, a version count mismatch, a version ahead", async () => {
    const account = (await createAccount(tenant)).id;
    const other = (await createAccount(tenant)).id;
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ ids: [] }, { reason: "EMPTY", field: "accountIds" }],
      [
        { ids: Array.from({ length: a.limits.subscriptionAccountsMax + 1 }, (_, i) => `acct_${i}`) },
        { reason: "LimitExceeded", field: "subscriptionAccountsMax" },
      ],
      [{ ids: [account, account] }, { reason: "DUPLICATE_ACCOUNT" }],
      [
        { ids: [account, other], after: ["0"] },
        { reason: "AFTER_VERSION", field: "afterVersion" },
      ],
      [{ ids: [account], after: ["-1"] }, { reason: "AFTER_VERSION" }],
      [{ ids: [account], after: ["5"] }, { reason: "AFTER_VERSION" }],
      // A BigInt is a JSON string of one spelling, as an Amount is.
      [{ ids: [account], after: [0] }, { reason: "AFTER_VERSION" }],
      [{ ids: [account], after: ["00"] }, { reason: "AFTER_VERSION" }],
    ];
    for (const [variables, expected] of cases) {
      const subscription = live(a).subscribe(balanceChanged, variables);
      await subscription.ended();
      expect((subscription.errors[0] as { extensions: unknown }).extensions, JSON.stringify(variables)).toMatchObject({
        code: "BAD_USER_INPUT",
        ...expected,
      });
    }
  });
});

describe("transferPosted and holdChanged", () => {
  it("delivers the tenant's transfers as they commit, filtered by account, currency and metadata containment", async () => {
    const shop = (await createAccount(tenant)).id;
    const eurFunding = (await createFundingAccount(tenant, "EUR")).id;
    const eurShop = (await createAccount(tenant, { currency: "EUR" })).id;
    const query = `subscription($filter: TransferPostedFilter) { transferPosted(filter: $filter) { id metadata externalRef entries { amount account { id } } } }`;
    const all = live(b).subscribe<any>(query, {});
    const byAccount = live(b).subscribe<any>(query, { filter: { accountId: shop } });
    const byCurrency = live(a).subscribe<any>(query, { filter: { currency: "EUR" } });
    const byMetadata = live(a).subscribe<any>(query, { filter: { metadata: { order: { id: 7 } } } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const t1 = expectResult(
      await postTransfer(tenant, {
        from: { id: funding },
        to: { id: shop },
        amount: "10",
        currency: "USD",
        metadata: { order: { id: 7, lines: 2 } },
        externalRef: "ch_live_7",
      }),
      "TransferPosted",
    );
    const t2 = expectResult(
      await postTransfer(tenant, {
        from: { id: eurFunding },
        to: { id: eurShop },
        amount: "20",
        currency: "EUR",
        metadata: { order: { id: 8 } },
      }),
      "TransferPosted",
    );
    const t3 = expectResult(
      await postTransfer(tenant, { from: { id: funding }, to: { id: shop }, amount: "30", currency: "USD" }),
      "TransferPosted",
    );
    const ids = (s: { events: any[] }) => s.events.map((e) => e.transferPosted.id);
    await all.waitFor(3);
    await byAccount.waitFor(2);
    await byCurrency.waitFor(1);
    await byMetadata.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ids(all)).toEqual([t1.transfer.id, t2.transfer.id, t3.transfer.id]);
    expect(ids(byAccount)).toEqual([t1.transfer.id, t3.transfer.id]);
    expect(ids(byCurrency)).toEqual([t2.transfer.id]);
    expect(ids(byMetadata)).toEqual([t1.transfer.id]);
    expect(all.events[0].transferPosted.entries).toHaveLength(2);
    expect(all.events.map((e) => e.transferPosted.externalRef)).toEqual(["ch_live_7", null, null]);
  });

  it("delivers a transaction that commits after later ones (no gap behind a slow writer)", async () => {
    const slowFrom = (await createFundingAccount(tenant)).id;
    const slowTo = (await createAccount(tenant)).id;
    const other = (await createAccount(tenant)).id;
    const subscription = live(b).subscribe<any>(`subscription { transferPosted { id } }`);
    const changes = live(b).subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [slowTo] });
    await settled(b, 2);
    // A writer whose transaction stays open: its entries exist, uncommitted, with an older id.
    const held = await a.db.pool.connect();
    try {
      await held.query("BEGIN");
      const transfer = validateTransfer(
        { idempotencyKey: key("held"), from: { id: slowFrom }, to: { id: slowTo }, amount: "3", currency: "USD" },
        a.limits,
      );
      assert(transfer.ok, "a valid transfer");
      const { rows } = await held.query("SELECT ledger_execute($1::jsonb) AS answers", [
        JSON.stringify([transferCommand(tenant.id, transfer.value)]),
      ]);
      const heldId = rows[0].answers[0].ok ? `tr_${rows[0].answers[0].transferId}` : "";
      expect(heldId).not.toBe("");
      const later = expectResult(await transferBetween(tenant, funding, other, "4"), "TransferPosted");
      await subscription.waitFor(1);
      await new Promise((resolve) => setTimeout(resolve, 300)); // several looks pass the held one by
      await held.query("COMMIT");
      const events = await subscription.waitFor(2, 5000);
      expect(events.map((e) => e.transferPosted.id)).toEqual([later.transfer.id, heldId]);
      const [change] = changesOf(await changes.waitFor(1, 5000));
      expect(change).toMatchObject({ version: "1", balance: { posted: "3" } });
    } finally {
      held.release();
    }
  });

  // #12 defect 6. The instance's feed is kept from looking (a lock on entries) while a transfer
  // that committed before the subscription is still unread by it; the feed reads it only after
  // the subscription is registered, and must not send it.
  it("starts transferPosted and holdChanged after the subscription starts: an earlier commit the feed reads late is not sent", async () => {
    const late = await startTestService({}, { pollIntervalMs: 60_000 });
    try {
      const shop = (await createAccount(tenant)).id;
      // An earlier subscriber: the feed is running and has fixed its position.
      live(late).subscribe(`subscription { transferPosted { id } }`);
      await until(() => late.service.hub.subscriptionCount() >= 1, "the feed's first subscriber");
      const earlier = validateTransfer(
        { idempotencyKey: key("earlier"), from: { id: funding }, to: { id: shop }, amount: "5", currency: "USD" },
        a.limits,
      );
      assert(earlier.ok, "a valid transfer");
      const blocker = await a.db.pool.connect();
      try {
        // Written directly: no instance is told, and `late` polls only every minute.
        const { rows } = await blocker.query("SELECT ledger_execute($1::jsonb) AS answers", [
          JSON.stringify([transferCommand(tenant.id, earlier.value)]),
        ]);
        expect(rows[0].answers[0].ok).toBe(true);
        await blocker.query("BEGIN; LOCK TABLE entries IN ACCESS EXCLUSIVE MODE");
        const transfers = live(late).subscribe<any>(`subscription($f: TransferPostedFilter) { transferPosted(filter: $f) { id } }`, {
          f: { accountId: shop },
        });
        const holds = live(late).subscribe<any>(`subscription($f: HoldChangedFilter) { holdChanged(filter: $f) { change hold { id } } }`, {
          f: { accountId: shop },
        });
        await until(() => late.service.hub.subscriptionCount() >= 3, "the two new subscriptions");
        await a.db.pool.query("NOTIFY ledger_changes"); // `late` looks, and waits for the lock
        await new Promise((resolve) => setTimeout(resolve, 100));
        await blocker.query("COMMIT");
        const after = expectResult(await transferBetween(tenant, funding, shop, "6"), "TransferPosted");
        const hold = expectResult(
          await createHold(tenant, {
            from: { id: funding },
            to: { id: shop },
            amount: "7",
            currency: "USD",
            expiresInSeconds: 60,
          }),
          "HoldCreated",
        );
        expect((await transfers.waitFor(1)).map((e) => e.transferPosted.id)).toEqual([after.transfer.id]);
        expect((await holds.waitFor(1)).map((e) => [e.holdChanged.change, e.holdChanged.hold.id])).toEqual([["CREATED", hold.hold.id]]);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(transfers.events).toHaveLength(1);
      } finally {
        await blocker.query("ROLLBACK").catch(() => undefined);
        blocker.release();
      }
    } finally {
      await late.stop();
    }
  });

  it("refuses a filter naming another tenant's account, or an unknown currency", async () => {
    const other = await a.newTenant("other");
    const foreign = (await createAccount(other)).id;
    for (const [query, filter, reason] of [
      ["subscription($f: TransferPostedFilter) { transferPosted(filter: $f) { id } }", { accountId: foreign }, "AccountNotFound"],
      ["subscription($f: TransferPostedFilter) { transferPosted(filter: $f) { id } }", { currency: "XXX" }, "CurrencyNotFound"],
      ["subscription($f: HoldChangedFilter) { holdChanged(filter: $f) { change } }", { accountId: foreign }, "AccountNotFound"],
      [
        "subscription($f: HoldChangedFilter) { holdChanged(filter: $f) { change } }",
        { holdId: "hold_00000000-0000-4000-8000-000000000000" },
        "HoldNotFound",
      ],
    ] as const) {
      const subscription = live(a).subscribe(query, { f: filter });
      await subscription.ended();
      expect((subscription.errors[0] as { extensions: unknown }).extensions).toMatchObject({ code: "BAD_USER_INPUT", reason });
    }
  });

  it("reports each hold's creation, captures, void and expiry, with the amount of each change", async () => {
    const clockTenant = await a.newTenant("holds");
    const payer = (await createFundingAccount(clockTenant)).id;
    const shop = (await createAccount(clockTenant)).id;
    const subscription = live(b, clockTenant.key).subscribe<any>(
      `subscription($f: HoldChangedFilter) {
      holdChanged(filter: $f) { change amount hold { id status externalRef } transfer { id externalRef } } }`,
      { f: { accountId: shop } },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const hold = async (h: string) =>
      expectResult(
        await createHold(clockTenant, { from: { id: payer }, to: { id: shop }, amount: h, currency: "USD", expiresInSeconds: 60 }),
        "HoldCreated",
      );
    const h1 = expectResult(
      await createHold(clockTenant, {
        from: { id: payer },
        to: { id: shop },
        amount: "100",
        currency: "USD",
        expiresInSeconds: 60,
        externalRef: "auth_live_1",
      }),
      "HoldCreated",
    ).hold.id;
    const capture = expectResult(await captureHold(clockTenant, h1, { amount: "40" }), "HoldCaptured");
    await captureHold(clockTenant, h1);
    const h2 = (await hold("70")).hold.id;
    await voidHold(clockTenant, h2);
    const h3 = (await hold("30")).hold.id;
    await advanceClock(a.db.pool, clockTenant.id, 61_000);
    expect(await runExpiryJob(a.db.pool)).toBeGreaterThanOrEqual(1);
    const events = (await subscription.waitFor(7, 15_000)).map((e) => e.holdChanged);
    expect(events.map((e) => [e.hold.id, e.change, e.amount])).toEqual([
      [h1, "CREATED", "100"],
      [h1, "CAPTURED", "40"],
      [h1, "CAPTURED", "60"],
      [h2, "CREATED", "70"],
      [h2, "VOIDED", "70"],
      [h3, "CREATED", "30"],
      [h3, "EXPIRED", "30"],
    ]);
    expect(events[1].transfer.id).toBe(capture.transfer.id);
    // The captures gave no externalRef: their transfers have the hold's.
    expect(events.slice(0, 3).map((e) => [e.hold.externalRef, e.transfer?.externalRef ?? null])).toEqual([
      ["auth_live_1", null],
      ["auth_live_1", "auth_live_1"],
      ["auth_live_1", "auth_live_1"],
    ]);
    expect(events[3].hold.externalRef).toBeNull();
  });
});

describe("authorization and limits over the socket", () => {
  it("closes a connection with an unknown key with 4401 before anything else", async () => {
    const client = live(a, "lk_not-a-real-key");
    const subscription = client.subscribe(balanceChanged, { ids: [funding] });
    expect(await client.closed()).toBe(4401);
    expect(subscription.events).toEqual([]);
  });

  it("closes a connection that sends no connection_init with 4408", async () => {
    const { default: WebSocket } = await import("ws");
    const socket = new WebSocket(a.service.url.replace(/^http/, "ws"), "graphql-transport-ws");
    const code = await new Promise<number>((resolve) => socket.on("close", (c) => resolve(c)));
    expect(code).toBe(4408);
  });

  it("refuses a subscribe before connection_ack with 4401", async () => {
    const { default: WebSocket } = await import("ws");
    const socket = new WebSocket(a.service.url.replace(/^http/, "ws"), "graphql-transport-ws");
    await new Promise((resolve) => socket.on("open", resolve));
    const messages: string[] = [];
    socket.on("message", (m) => messages.push(String(m)));
    socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: `subscription { transferPosted { id } }` } }));
    const code = await new Promise<number>((resolve) => socket.on("close", (c) => resolve(c)));
    expect(code).toBe(4401);
    expect(messages).toEqual([]);
  });

  it("closes every connection of a revoked key with 4401", async () => {
    const revocable = await a.newTenant("revocable");
    const client = live(a, revocable.key);
    const subscription = client.subscribe(`subscription { transferPosted { id } }`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.closeCode()).toBeNull();
    expect(await revokeApiKey(a.db, revocable.key.slice(0, 11))).toBe(1);
    expect(await client.closed()).toBe(4401);
    expect(subscription.events).toEqual([]);
  });

  it("applies the HTTP limits to operations over the socket: depth, aliases and page size", async () => {
    const client = live(a);
    const deep = client.subscribe(
      `subscription { transferPosted { reverses { reverses { reverses { reverses { reverses { reverses { reverses { reverses { reverses { reverses { reverses { reverses { id } } } } } } } } } } } } } }`,
    );
    const aliases = client.subscribe(`subscription { transferPosted { ${Array.from({ length: 40 }, (_, i) => `a${i}: id`).join(" ")} } }`);
    const pageSize = client.subscribe(`query($n: Int) { accounts(first: $n) { nodes { id } } }`, { n: 1000 });
    for (const refused of [deep, aliases, pageSize]) await refused.ended();
    expect(JSON.stringify(deep.errors)).toMatch(/depth/i);
    expect(JSON.stringify(aliases.errors)).toMatch(/alias/i);
    expect(pageSize.errors[0]).toMatchObject({ extensions: { code: "LIMIT_EXCEEDED", limit: "pageSizeMax" } });
    const query = client.subscribe<any>(`query { limits { subscriptionEventsQueuedMax subscriptionAccountsMax } }`);
    await query.ended();
    expect(query.events[0].limits.subscriptionEventsQueuedMax).toBe(a.limits.subscriptionEventsQueuedMax);
  });

  it("refuses an operation beyond subscriptionsPerConnectionMax on one connection, and takes it once one ends", async () => {
    const small = await startTestService({ subscriptionsPerConnectionMax: 2 });
    try {
      const owner = await small.newTenant("few");
      const client = connectLive(small.service.url, owner.key);
      clients.push(client);
      const first = client.subscribe(`subscription { transferPosted { id } }`);
      client.subscribe(`subscription { holdChanged { change } }`);
      await until(() => small.service.hub.subscriptionCount() === 2, "subscriptions");
      const third = client.subscribe(`subscription { transferPosted { id } }`);
      await third.ended();
      expect(third.errors[0]).toMatchObject({ extensions: { code: "LIMIT_EXCEEDED", limit: "subscriptionsPerConnectionMax" } });
      first.unsubscribe();
      await until(() => small.service.hub.subscriptionCount() === 1, "subscriptions");
      const fourth = client.subscribe(`subscription { transferPosted { id } }`);
      await until(() => small.service.hub.subscriptionCount() === 2, "subscriptions");
      expect(fourth.errors).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it("answers a subscription sent over HTTP with a clear error", async () => {
    const response = await tenant.request(`subscription { transferPosted { id } }`);
    expect(response.errors?.[0]?.message).toBeTruthy();
    expect(response.data?.transferPosted ?? null).toBeNull();
  });

  it("runs mutations over the socket and publishes their effect", async () => {
    const account = (await createAccount(tenant)).id;
    const client = live(b);
    const subscription = client.subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const mutation = client.subscribe<any>(`mutation($input: TransferInput!) { postTransfer(input: $input) { __typename } }`, {
      input: { idempotencyKey: key("ws"), from: { id: funding }, to: { id: account }, amount: "9", currency: "USD" },
    });
    await mutation.ended();
    expect(mutation.events[0].postTransfer.__typename).toBe("TransferPosted");
    const [event] = changesOf(await subscription.waitFor(1));
    expect(event).toMatchObject({ version: "1", balance: { posted: "9" } });
    expect(await fullBalanceOf(tenant, account)).toMatchObject({ posted: "9", version: "1" });
  });
});
