// The webhook worker runs in a thread of its own (src/webhooks/thread.ts): a thread that dies is
// started again, and nothing made or due meanwhile is lost (it waits in the database).
import { describe, expect, it } from "vitest";
import { transferBetween } from "../support/ledger-client.js";
import { until } from "../support/live-client.js";
import { transferEndpointTenant, useOwnDatabase, useReceivers, useWebhookService } from "../support/webhooks.js";

describe("the webhook thread", () => {
  const database = useOwnDatabase("wh_thread");
  const service = useWebhookService(database);
  const startReceiver = useReceivers();

  it("is started again when it dies, and delivers what was committed while it was gone", async () => {
    const receiver = await startReceiver(async () => 200);
    const { tenant, funding, account } = await transferEndpointTenant(service, "thread", receiver.url);
    await transferBetween(tenant, funding.id, account.id, "1");
    await receiver.waitFor((r) => r.length === 1);
    // Recorded before the thread dies (otherwise its lease would run out and it would be sent again).
    const delivered = async () =>
      (await service.db.pool.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'DELIVERED'")).rows[0].n;
    await until(async () => (await delivered()) === 1, "the first attempt to be recorded");
    const worker = service.service.webhooks()!;
    const dead = worker.thread();
    const exited = new Promise<number>((resolve) => dead.once("exit", resolve));
    await dead.terminate();
    await exited;
    // Committed while no thread runs: made and sent by the next one.
    for (const amount of ["2", "3"]) await transferBetween(tenant, funding.id, account.id, amount);
    await receiver.waitFor((r) => r.length === 3, 20_000);
    await until(async () => (await delivered()) === 3, "every attempt to be recorded");
    expect(worker.thread()).not.toBe(dead);
    const amounts = receiver.received.map((r) => r.json.data.transfer.entries[0].amount).sort();
    expect(amounts).toEqual(["1", "2", "3"]);
    expect((await worker.dispatcher()).attemptsSent).toBe(2); // the new thread's own count
    const metrics = await (await fetch(`http://127.0.0.1:${service.service.port}/metrics`)).text();
    expect(metrics).toMatch(/^ledger_webhook_attempts_total\{outcome="SUCCESS"\} 2$/m);
  });
});
