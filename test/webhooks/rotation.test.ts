// Secret rotation: during the grace period deliveries verify with the old secret and the new one;
// after it, only with the new one.
import { describe, expect, it } from "vitest";
import { verifySignature } from "../../src/webhooks/signature.js";
import { createAccount, createFundingAccount, transferBetween } from "../support/ledger-client.js";
import { createEndpoint, startReceiver, useOwnDatabase, useWebhookService, type Received } from "../support/webhooks.js";

const database = useOwnDatabase("wh_rotation");
const service = useWebhookService(database);

const rotateMutation = `mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { __typename
  ... on WebhookSecretRotated { secret endpoint { id previousSecretExpiresAt } } ... on Problem { code message } ... on InvalidInput { field reason } } }`;

const verifies = (received: Received, secret: string) =>
  verifySignature(String(received.headers["ledger-signature"]), received.body, secret, {}).ok;

describe("webhook secret rotation", () => {
  it("signs with both secrets during the grace period and with the new one only after it", async () => {
    const receiver = await startReceiver();
    const tenant = await service.newTenant("rotation");
    const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
    const funding = await createFundingAccount(tenant);
    const shop = await createAccount(tenant);
    const pay = async (amount: string, count: number) => {
      await transferBetween(tenant, funding.id, shop.id, amount);
      await receiver.waitFor((r) => r.length === count);
      return receiver.received.at(-1)!;
    };

    const before = await pay("1", 1);
    expect(verifies(before, endpoint.secret)).toBe(true);

    const rotated = await tenant.gql(rotateMutation, { input: { id: endpoint.id, gracePeriodSeconds: 2 } });
    expect(rotated.rotateWebhookSecret.__typename).toBe("WebhookSecretRotated");
    const { secret } = rotated.rotateWebhookSecret;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(endpoint.secret);
    const graceEnds = new Date(rotated.rotateWebhookSecret.endpoint.previousSecretExpiresAt).getTime();

    const during = await pay("2", 2);
    expect(String(during.headers["ledger-signature"]).match(/v1=/g)).toHaveLength(2);
    expect(verifies(during, secret)).toBe(true);
    expect(verifies(during, endpoint.secret)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceEnds - Date.now() + 200)));
    const after = await pay("3", 3);
    expect(String(after.headers["ledger-signature"]).match(/v1=/g)).toHaveLength(1);
    expect(verifies(after, secret)).toBe(true);
    expect(verifies(after, endpoint.secret)).toBe(false);
    await receiver.close();
  });

  it("refuses a grace period out of range and an unknown endpoint, changing nothing", async () => {
    const tenant = await service.newTenant("rotation refusals");
    const receiver = await startReceiver();
    const endpoint = await createEndpoint(tenant, { url: receiver.url });
    const tooLong = await tenant.gql(rotateMutation, { input: { id: endpoint.id, gracePeriodSeconds: 8 * 24 * 3600 } });
    expect(tooLong.rotateWebhookSecret).toMatchObject({
      __typename: "InvalidInput",
      field: "gracePeriodSeconds",
      reason: "GRACE_OUT_OF_RANGE",
    });
    const unknown = await tenant.gql(rotateMutation, { input: { id: "whep_00000000-0000-4000-8000-000000000000" } });
    expect(unknown.rotateWebhookSecret.__typename).toBe("WebhookEndpointNotFound");
    const read = await tenant.gql(`query($id: ID!) { webhookEndpoint(id: $id) { previousSecretExpiresAt } }`, { id: endpoint.id });
    expect(read.webhookEndpoint.previousSecretExpiresAt).toBeNull();
    await receiver.close();
  });
});
