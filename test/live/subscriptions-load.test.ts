// Subscriptions under load: ordering with 20 concurrent writers across two instances, a consumer
// that never reads, and a graceful shutdown with a write in flight.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { checkInvariants } from "../support/invariants.js";
import {
  createAccount,
  createFundingAccount,
  expectResult,
  fullBalanceOf,
  key,
  postTransfersMutation,
  transferBetween,
} from "../support/ledger-client.js";
import { connectLive, until, wsUrlOf, type LiveClient } from "../support/live-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";

let a: TestService;
let b: TestService;
let tenant: TestTenant;
const clients: LiveClient[] = [];

const balanceChanged = `subscription($ids: [ID!]!) {
  balanceChanged(accountIds: $ids) { account { id } version balance { posted pending available debitsPosted creditsPosted debitsPending creditsPending version } }
}`;

type Change = { account: { id: string }; version: string; balance: Record<string, string> };

beforeAll(async () => {
  a = await startTestService();
  b = await startTestService();
  tenant = await a.newTenant("load");
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await checkInvariants(a.db.pool);
  await b?.stop();
  await a?.stop();
});

describe("ordering under load", () => {
  it("gives every subscriber, on either instance, each account's versions gap-free and in order, the last equal to a fresh query", async () => {
    const funding = (await createFundingAccount(tenant)).id;
    const accounts = await Promise.all(Array.from({ length: 4 }, () => createAccount(tenant, { minBalance: null })));
    const ids = [funding, ...accounts.map((account) => account.id)];
    const before = new Map(await Promise.all(ids.map(async (id) => [id, BigInt((await fullBalanceOf(tenant, id)).version)] as const)));

    const subscriptions = [a, b, b].map((service) => {
      const client = connectLive(service.service.url, tenant.key);
      clients.push(client);
      return client.subscribe<{ balanceChanged: Change }>(balanceChanged, { ids });
    });
    await until(() => a.service.hub.subscriptionCount() >= 1 && b.service.hub.subscriptionCount() >= 2, "subscriptions");
    await new Promise((resolve) => setTimeout(resolve, 200));

    // 20 writers through both instances, on 5 accounts: the hot funding account and 4 others.
    const writers = Array.from({ length: 20 }, async (_, writer) => {
      const service = writer % 2 === 0 ? a : b;
      for (let i = 0; i < 12; i++) {
        const from = ids[(writer + i) % ids.length]!;
        const to = ids[(writer + i + 1 + (i % 3)) % ids.length]!;
        const response = await service.post(
          {
            query: `mutation($input: TransferInput!) { postTransfer(input: $input) { __typename } }`,
            variables: {
              input: { idempotencyKey: key("load"), from: { id: from }, to: { id: to }, amount: String(1 + i), currency: "USD" },
            },
          },
          { authorization: `Bearer ${tenant.key}` },
        );
        expect(response.data?.postTransfer.__typename).toBe("TransferPosted");
      }
    });
    await Promise.all(writers);

    const fresh = new Map(await Promise.all(ids.map(async (id) => [id, await fullBalanceOf(tenant, id)] as const)));
    const expectedCount = ids.reduce((sum, id) => sum + Number(BigInt(fresh.get(id)!.version) - before.get(id)!), 0);
    expect(expectedCount).toBe(20 * 12 * 2);
    for (const subscription of subscriptions) {
      const events = (await subscription.waitFor(expectedCount, 20_000)).map((e) => e.balanceChanged);
      for (const id of ids) {
        const ofAccount = events.filter((e) => e.account.id === id);
        const versions = ofAccount.map((e) => BigInt(e.version));
        const expected = Array.from(
          { length: Number(BigInt(fresh.get(id)!.version) - before.get(id)!) },
          (_, i) => before.get(id)! + 1n + BigInt(i),
        );
        expect(versions).toEqual(expected);
        expect(ofAccount.at(-1)!.balance).toEqual(fresh.get(id));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const subscription of subscriptions) expect(subscription.events).toHaveLength(expectedCount);
    expect(await checkInvariants(a.db.pool)).toEqual([]);
  });
});

describe("change feed paging", () => {
  it("reads a look with more entries than a page in one snapshot: every transfer once, batches whole", async () => {
    const paged = await startTestService({}, { entriesPerLookMax: 7 });
    try {
      const owner = await paged.newTenant("paged");
      const funding = (await createFundingAccount(owner)).id;
      const shop = (await createAccount(owner)).id;
      const client = connectLive(paged.service.url, owner.key);
      clients.push(client);
      const transfers = client.subscribe<any>(`subscription { transferPosted { id } }`);
      const changes = client.subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [shop] });
      await until(() => paged.service.hub.subscriptionCount() === 2, "subscriptions");
      await new Promise((resolve) => setTimeout(resolve, 100));
      const posted: string[] = [];
      for (let round = 0; round < 3; round++) {
        const batch = Array.from({ length: 40 }, () => ({
          idempotencyKey: key("page"),
          from: { id: funding },
          to: { id: shop },
          amount: "1",
          currency: "USD",
        }));
        const data = await owner.gql(postTransfersMutation, { input: { atomic: true, transfers: batch } });
        posted.push(...expectResult(data.postTransfers, "TransfersPosted").results.map((r: any) => r.transfer.id));
      }
      const received = (await transfers.waitFor(120)).map((e) => e.transferPosted.id);
      expect(new Set(received).size).toBe(120);
      expect([...received].sort()).toEqual([...posted].sort());
      const versions = (await changes.waitFor(120)).map((e) => Number(e.balanceChanged.version));
      expect(versions).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(transfers.events).toHaveLength(120);
    } finally {
      await paged.stop();
    }
  });
});

describe("slow consumers", () => {
  it("cuts off a client that stops reading, keeps every queue within its bound, and keeps serving others in full", async () => {
    const small = await startTestService({ subscriptionEventsQueuedMax: 20 }, { slowConsumerMs: 500 });
    try {
      const owner = await small.newTenant("slow");
      const funding = (await createFundingAccount(owner)).id;
      // Big events fill the socket buffers quickly: 30 aliases of 4 KB of metadata each.
      const account = (await createAccount(owner, { metadata: { blob: "x".repeat(4000) } })).id;
      const socket = new WebSocket(wsUrlOf(small.service.url), "graphql-transport-ws");
      await new Promise((resolve) => socket.on("open", resolve));
      const acked = new Promise((resolve) => socket.once("message", resolve));
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${owner.key}` } }));
      await acked;
      const fields = Array.from({ length: 29 }, (_, i) => `m${i}: account { metadata }`).join(" ");
      socket.send(
        JSON.stringify({
          id: "slow",
          type: "subscribe",
          payload: {
            query: `subscription($ids: [ID!]!) { balanceChanged(accountIds: $ids) { version ${fields} } }`,
            variables: { ids: [account] },
          },
        }),
      );
      const healthyClient = connectLive(small.service.url, owner.key);
      clients.push(healthyClient);
      const healthy = healthyClient.subscribe<{ balanceChanged: Change }>(balanceChanged, { ids: [account] });
      await until(() => small.service.hub.subscriptionCount() >= 2, "subscriptions");
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.pause(); // stops reading: TCP back-pressure reaches the server

      let posted = 0;
      while (small.service.sockets.stats().slowConsumersCut === 0 && posted < 3000) {
        const batch = Array.from({ length: 50 }, () => ({
          idempotencyKey: key("slow"),
          from: { id: funding },
          to: { id: account },
          amount: "1",
          currency: "USD",
        }));
        await owner.gql(postTransfersMutation, { input: { atomic: true, transfers: batch } });
        posted += 50;
      }
      expect(small.service.sockets.stats().slowConsumersCut).toBe(1);
      // The cut socket is gone within the close grace; the queue never passed its bound.
      await until(() => small.service.sockets.stats().connections === 1, "the slow socket to be closed", 10_000);
      expect(small.service.sockets.stats().eventsQueuedPeak).toBeLessThanOrEqual(20);
      expect(small.service.hub.subscriptionCount()).toBe(1);

      // The healthy subscriber saw every change (bursts beyond its queue read back from
      // storage), and still receives new ones.
      await transferBetween(owner, funding, account, "1");
      const events = await healthy.waitFor(posted + 1, 20_000);
      expect(events.map((e) => Number(e.balanceChanged.version))).toEqual(Array.from({ length: posted + 1 }, (_, i) => i + 1));
      socket.terminate();
    } finally {
      await small.stop();
    }
  });
});

describe("graceful shutdown", () => {
  it("finishes a write in flight, closes sockets with 1001 and refuses new connections", async () => {
    const service = await startTestService();
    const owner = await service.newTenant("shutdown");
    const funding = (await createFundingAccount(owner)).id;
    const account = (await createAccount(owner)).id;
    const client = connectLive(service.service.url, owner.key);
    clients.push(client);
    client.subscribe(balanceChanged, { ids: [account] });
    await until(() => service.service.hub.subscriptionCount() >= 1, "the subscription");

    const batch = Array.from({ length: 300 }, () => ({
      idempotencyKey: key("drain"),
      from: { id: funding },
      to: { id: account },
      amount: "1",
      currency: "USD",
    }));
    const inFlight = owner.request(postTransfersMutation, { input: { atomic: true, transfers: batch } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const stopping = service.stop();
    const response = await inFlight;
    expect(response.data?.postTransfers).toMatchObject({ __typename: "TransfersPosted", allSucceeded: true });
    expect(await client.closed()).toBe(1001);
    await stopping;
    await expect(fetch(service.service.url, { method: "POST" })).rejects.toThrow();
    const check = await a.newTenant("after");
    expect(check.id).toBeTruthy();
    const { rows } = await a.db.pool.query<{ version: string }>("SELECT version::text FROM accounts WHERE id = $1", [
      account.replace(/^acct_/, ""),
    ]);
    expect(rows[0]!.version).toBe("300");
  });
});
