// Idempotency keys on the webhook calls that make a secret (createWebhookEndpoint,
// rotateWebhookSecret): a retry after a lost answer gets the first call's endpoint and secret
// and makes nothing; the same key for another request is refused; keys are shared with the
// ledger's writes. No worker runs here.
import { describe, expect, it } from "vitest";
import { webhookSettingsOf } from "../../src/webhooks/settings.js";
import { createAccount, createFundingAccount, postTransfer } from "../support/ledger-client.js";
import { useTestService } from "../support/service.js";
import { allEventTypes, createEndpoint } from "../support/webhooks.js";

const service = useTestService({ webhookEndpointsPerTenantMax: 2 }, {}, { webhooks: webhookSettingsOf({ enabled: false }) });

const url = "https://hooks.example.com/ledger";
const replayedCreate = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename
  ... on WebhookEndpointCreated { secret replay endpoint { id url } } ... on Problem { code message }
  ... on IdempotencyConflict { idempotencyKey } ... on LimitExceeded { limit } } }`;
const rotateMutation = `mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { __typename
  ... on WebhookSecretRotated { secret replay endpoint { id previousSecretExpiresAt } } ... on Problem { code message } } }`;

const sealedSecrets = async (tenantId: string) =>
  (
    await service.db.pool.query<{ secret_sealed: string; previous_secret_sealed: string | null }>(
      "SELECT secret_sealed, previous_secret_sealed FROM webhook_endpoints WHERE tenant_id = $1",
      [tenantId],
    )
  ).rows;

describe("webhook calls with an idempotency key", () => {
  it("answer a retried createWebhookEndpoint with the first endpoint and secret, and make one endpoint", async () => {
    const tenant = await service.newTenant("idempotent create");
    const input = { idempotencyKey: "endpoint-1", url, eventTypes: ["TRANSFER_POSTED"] };
    const first = (await tenant.gql(replayedCreate, { input })).createWebhookEndpoint;
    const again = (await tenant.gql(replayedCreate, { input })).createWebhookEndpoint;
    expect(first).toMatchObject({ __typename: "WebhookEndpointCreated", replay: false });
    expect(again).toEqual({ ...first, replay: true });
    expect(await sealedSecrets(tenant.id)).toHaveLength(1);
  });

  it("make one endpoint when the same create arrives several times at once", async () => {
    const tenant = await service.newTenant("idempotent create at once");
    const input = { idempotencyKey: "endpoint-at-once", url, eventTypes: allEventTypes };
    const answers = await Promise.all(Array.from({ length: 6 }, () => tenant.gql(replayedCreate, { input })));
    const results = answers.map((a) => a.createWebhookEndpoint);
    expect(new Set(results.map((r) => r.endpoint.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.secret)).size).toBe(1);
    expect(results.filter((r) => !r.replay)).toHaveLength(1);
    expect(await sealedSecrets(tenant.id)).toHaveLength(1);
  });

  it("refuse the same key for another request (IdempotencyConflict), making nothing", async () => {
    const tenant = await service.newTenant("idempotent conflict");
    const input = { idempotencyKey: "endpoint-2", url, eventTypes: ["TRANSFER_POSTED"] };
    await tenant.gql(replayedCreate, { input });
    const other = await tenant.gql(replayedCreate, { input: { ...input, eventTypes: ["HOLD_CREATED"] } });
    expect(other.createWebhookEndpoint).toMatchObject({ __typename: "IdempotencyConflict", idempotencyKey: "endpoint-2" });
    expect(await sealedSecrets(tenant.id)).toHaveLength(1);
  });

  it("share keys with the ledger's writes: a transfer's key is a conflict for a webhook call", async () => {
    const tenant = await service.newTenant("idempotent shared keys");
    const funding = await createFundingAccount(tenant);
    const shop = await createAccount(tenant);
    const posted = await postTransfer(tenant, {
      idempotencyKey: "shared-key",
      from: { id: funding.id },
      to: { id: shop.id },
      amount: "100",
      currency: "USD",
    });
    expect(posted).toMatchObject({ __typename: "TransferPosted" });
    const create = await tenant.gql(replayedCreate, { input: { idempotencyKey: "shared-key", url, eventTypes: ["TRANSFER_POSTED"] } });
    expect(create.createWebhookEndpoint).toMatchObject({ __typename: "IdempotencyConflict", idempotencyKey: "shared-key" });
    expect(await sealedSecrets(tenant.id)).toHaveLength(0);
  });

  it("keep no key for a refused create, so the same call can succeed once there is room", async () => {
    const tenant = await service.newTenant("idempotent refusal");
    await createEndpoint(tenant, { url: `${url}/a` });
    const second = await createEndpoint(tenant, { url: `${url}/b` });
    const input = { idempotencyKey: "endpoint-3", url: `${url}/c`, eventTypes: ["TRANSFER_POSTED"] };
    const refused = await tenant.gql(replayedCreate, { input });
    expect(refused.createWebhookEndpoint).toMatchObject({ __typename: "LimitExceeded", limit: "webhookEndpointsPerTenantMax" });
    await service.db.pool.query("DELETE FROM webhook_endpoints WHERE id = $1", [second.id.replace(/^whep_/, "")]);
    const made = await tenant.gql(replayedCreate, { input });
    expect(made.createWebhookEndpoint).toMatchObject({
      __typename: "WebhookEndpointCreated",
      replay: false,
      endpoint: { url: `${url}/c` },
    });
  });

  it("answer a retried rotateWebhookSecret with the secret it made, rotating once", async () => {
    const tenant = await service.newTenant("idempotent rotation");
    const endpoint = await createEndpoint(tenant, { url });
    const [before] = await sealedSecrets(tenant.id);
    const input = { idempotencyKey: "rotation-1", id: endpoint.id, gracePeriodSeconds: 3600 };
    const first = (await tenant.gql(rotateMutation, { input })).rotateWebhookSecret;
    const [afterFirst] = await sealedSecrets(tenant.id);
    const again = (await tenant.gql(rotateMutation, { input })).rotateWebhookSecret;
    expect(first).toMatchObject({ __typename: "WebhookSecretRotated", replay: false });
    expect(again).toEqual({ ...first, replay: true });
    // Rotated once: the secret receivers held is still the previous one, not pushed out by the retry.
    expect(afterFirst!.previous_secret_sealed).toBe(before!.secret_sealed);
    expect(await sealedSecrets(tenant.id)).toEqual([afterFirst]);
    const other = await tenant.gql(rotateMutation, { input: { ...input, gracePeriodSeconds: 60 } });
    expect(other.rotateWebhookSecret).toMatchObject({ __typename: "IdempotencyConflict" });
  });

  it("refuse a key that is empty or too long, making nothing", async () => {
    const tenant = await service.newTenant("idempotent bad keys");
    const empty = await tenant.gql(replayedCreate, { input: { idempotencyKey: "", url, eventTypes: ["TRANSFER_POSTED"] } });
    expect(empty.createWebhookEndpoint).toMatchObject({ __typename: "InvalidInput", code: "InvalidInput" });
    const long = await tenant.gql(replayedCreate, { input: { idempotencyKey: "k".repeat(300), url, eventTypes: ["TRANSFER_POSTED"] } });
    expect(long.createWebhookEndpoint).toMatchObject({ __typename: "LimitExceeded", limit: "idempotencyKeyLengthMax" });
    expect(await sealedSecrets(tenant.id)).toHaveLength(0);
  });
});
