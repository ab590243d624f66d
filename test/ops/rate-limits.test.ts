// Per-key rate limits (mutations, new WebSocket connections) and WebSocket connection caps.
import { afterEach, describe, expect, it } from "vitest";
import { createAccount, key } from "../support/ledger-client.js";
import { connectLive } from "../support/live-client.js";
import { startTestService, type TestService } from "../support/service.js";

let service: TestService | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

const createAccountMutation = `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename } }`;

describe("rate limits and connection caps", () => {
  it("refuses mutations beyond the per-key rate with RATE_LIMITED, HTTP 429 and Retry-After, and writes nothing", async () => {
    service = await startTestService({}, {}, { mutationsPerSecondMax: 2 });
    const tenant = await service.newTenant();
    await createAccount(tenant);
    await createAccount(tenant);
    const code = key("limited");
    const response = await fetch(service.service.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.key}` },
      body: JSON.stringify({
        query: createAccountMutation,
        variables: { input: { idempotencyKey: code, code, name: "x", currency: "USD", normalSide: "CREDIT" } },
      }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await response.json()).errors[0].extensions.code).toBe("RATE_LIMITED");
    expect(await service.db.prisma.account.count({ where: { tenantId: tenant.id, code } })).toBe(0);
    // Queries are not limited.
    expect((await tenant.request(`{ limits { pageSizeMax } }`)).status).toBe(200);
  });

  it("closes a tenant's connection beyond its cap with 4429, and new connections beyond the per-key rate with 4429", async () => {
    service = await startTestService({}, {}, { webSocketConnectionsPerTenantMax: 1 });
    const tenant = await service.newTenant();
    const first = connectLive(service.service.url, tenant.key);
    await first.connected();
    const second = connectLive(service.service.url, tenant.key);
    expect(await second.closed()).toBe(4429);
    expect(first.closeCode()).toBeNull();
    await first.dispose();
    await service.stop();

    service = await startTestService({}, {}, { connectionsPerSecondMax: 1 });
    const other = await service.newTenant();
    const allowed = connectLive(service.service.url, other.key);
    // One after the other: two connecting at once may reach the service in either order.
    await allowed.connected();
    const refused = connectLive(service.service.url, other.key);
    expect(await refused.closed()).toBe(4429);
    await allowed.dispose();
  });

  it("closes connections beyond the instance's cap with 1013 (try again later)", async () => {
    service = await startTestService({}, {}, { webSocketConnectionsMax: 1 });
    const tenant = await service.newTenant();
    const first = connectLive(service.service.url, tenant.key);
    await first.connected();
    const second = connectLive(service.service.url, tenant.key);
    expect(await second.closed()).toBe(1013);
    await first.dispose();
  });
});
