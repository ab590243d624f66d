// Webhook endpoints through the API: made, read, changed and refused (no worker runs here).
import { describe, expect, it } from "vitest";
import { webhookSettingsOf } from "../../src/webhooks/settings.js";
import { createAccount, mintToken } from "../support/ledger-client.js";
import { useTestService } from "../support/service.js";
import { allEventTypes, createEndpointMutation, endpointFields } from "../support/webhooks.js";

const service = useTestService({ webhookEndpointsPerTenantMax: 3 }, {}, { webhooks: webhookSettingsOf({ enabled: false }) });

const listQuery = `{ webhookEndpoints(first: 10) { nodes { id url } pageInfo { hasNextPage } } }`;
const updateMutation = `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { __typename
  ... on WebhookEndpointUpdated { endpoint { ${endpointFields} } } ... on Problem { code message } ... on InvalidInput { field reason } } }`;
const create = (input: Record<string, unknown>) => ({
  input: { url: "https://hooks.example.com/ledger", eventTypes: allEventTypes, ...input },
});

describe("webhook endpoints API", () => {
  it("makes an endpoint, answers its secret once, and lists it", async () => {
    const tenant = await service.newTenant("endpoints");
    const data = await tenant.gql(
      createEndpointMutation,
      create({ description: "orders service", eventTypes: ["TRANSFER_POSTED", "HOLD_CAPTURED"] }),
    );
    const created = data.createWebhookEndpoint;
    expect(created.__typename).toBe("WebhookEndpointCreated");
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.endpoint).toMatchObject({
      url: "https://hooks.example.com/ledger",
      description: "orders service",
      eventTypes: ["TRANSFER_POSTED", "HOLD_CAPTURED"],
      status: "ENABLED",
      breaker: "CLOSED",
      filter: null,
    });
    expect(created.endpoint.id).toMatch(/^whep_/);
    const listed = await tenant.gql(listQuery);
    expect(listed.webhookEndpoints.nodes).toEqual([{ id: created.endpoint.id, url: "https://hooks.example.com/ledger" }]);
    // The stored secret is encrypted: the plain one is nowhere in the row.
    const { rows } = await service.db.pool.query("SELECT row_to_json(w)::text AS row FROM webhook_endpoints w WHERE tenant_id = $1", [
      tenant.id,
    ]);
    expect(rows[0].row).not.toContain(created.secret);
  });

  it.each([
    ["ftp://hooks.example.com/", "URL_SCHEME"],
    ["not a url", "URL_FORMAT"],
    ["https://user:secret@hooks.example.com/", "URL_CREDENTIALS"],
    ["http://127.0.0.1:4000/hooks", "URL_PRIVATE_ADDRESS"],
    ["http://localhost/hooks", "URL_PRIVATE_ADDRESS"],
    ["http://169.254.169.254/latest/meta-data", "URL_PRIVATE_ADDRESS"],
    ["http://10.1.2.3/", "URL_PRIVATE_ADDRESS"],
    ["http://[::1]/", "URL_PRIVATE_ADDRESS"],
    ["http://[::ffff:192.168.0.1]/", "URL_PRIVATE_ADDRESS"],
  ])("refuses the URL %s (%s) and makes nothing", async (url, reason) => {
    const tenant = await service.newTenant("bad url");
    const data = await tenant.gql(createEndpointMutation, create({ url }));
    expect(data.createWebhookEndpoint).toMatchObject({ __typename: "InvalidInput", code: "InvalidInput", field: "url", reason });
    expect((await tenant.gql(listQuery)).webhookEndpoints.nodes).toEqual([]);
  });

  it.each([
    [{ eventTypes: [] }, { __typename: "InvalidInput", field: "eventTypes", reason: "EMPTY" }],
    [{ eventTypes: ["HOLD_CREATED", "HOLD_CREATED"] }, { __typename: "InvalidInput", field: "eventTypes", reason: "EVENT_TYPE_DUPLICATE" }],
    [{ filter: { accountId: "acct_00000000-0000-4000-8000-000000000000" } }, { __typename: "AccountNotFound" }],
    [{ filter: { metadata: { big: "x".repeat(5000) } } }, { __typename: "LimitExceeded", limit: "metadataBytesMax" }],
    [{ description: "bad\u0000" }, { __typename: "InvalidInput", field: "description" }],
  ])("refuses %j with a typed problem and makes nothing", async (input, problem) => {
    const tenant = await service.newTenant("bad input");
    const data = await tenant.gql(createEndpointMutation, create(input));
    expect(data.createWebhookEndpoint).toMatchObject(problem);
    expect((await tenant.gql(listQuery)).webhookEndpoints.nodes).toEqual([]);
  });

  it("refuses the endpoint past webhookEndpointsPerTenantMax", async () => {
    const tenant = await service.newTenant("endpoint limit");
    for (let i = 0; i < 3; i++)
      expect((await tenant.gql(createEndpointMutation, create({}))).createWebhookEndpoint.__typename).toBe("WebhookEndpointCreated");
    const fourth = await tenant.gql(createEndpointMutation, create({}));
    expect(fourth.createWebhookEndpoint).toMatchObject({ __typename: "LimitExceeded", limit: "webhookEndpointsPerTenantMax", max: "3" });
    expect((await tenant.gql(listQuery)).webhookEndpoints.nodes).toHaveLength(3);
  });

  it("changes URL, event types and filter, and disables and enables an endpoint", async () => {
    const tenant = await service.newTenant("endpoint update");
    const account = await createAccount(tenant);
    const { createWebhookEndpoint: made } = await tenant.gql(
      createEndpointMutation,
      create({ filter: { accountId: account.id, metadata: { a: 1 } } }),
    );
    expect(made.endpoint.filter).toEqual({ accountId: account.id, metadata: { a: 1 } });
    const id = made.endpoint.id;
    const changed = await tenant.gql(updateMutation, {
      input: { id, url: "https://other.example.com/h", eventTypes: ["ACCOUNT_CREATED"], filter: null },
    });
    expect(changed.updateWebhookEndpoint.endpoint).toMatchObject({
      url: "https://other.example.com/h",
      eventTypes: ["ACCOUNT_CREATED"],
      filter: null,
    });
    const disabled = await tenant.gql(
      `mutation($id: ID!) { disableWebhookEndpoint(id: $id) { ... on WebhookEndpointUpdated { endpoint { status disabledReason } } } }`,
      { id },
    );
    expect(disabled.disableWebhookEndpoint.endpoint).toEqual({ status: "DISABLED", disabledReason: "DISABLED_BY_USER" });
    const enabled = await tenant.gql(updateMutation, { input: { id, enabled: true } });
    expect(enabled.updateWebhookEndpoint.endpoint).toMatchObject({
      status: "ENABLED",
      disabledReason: null,
      url: "https://other.example.com/h",
    });
    const refused = await tenant.gql(updateMutation, { input: { id, url: "http://192.168.1.1/" } });
    expect(refused.updateWebhookEndpoint).toMatchObject({ __typename: "InvalidInput", reason: "URL_PRIVATE_ADDRESS" });
    const read = await tenant.gql(`query($id: ID!) { webhookEndpoint(id: $id) { url } }`, { id });
    expect(read.webhookEndpoint.url).toBe("https://other.example.com/h");
  });

  it("keeps tenants apart: another tenant's endpoint is unknown", async () => {
    const owner = await service.newTenant("endpoint owner");
    const other = await service.newTenant("endpoint other");
    const id = (await owner.gql(createEndpointMutation, create({}))).createWebhookEndpoint.endpoint.id;
    expect((await other.gql(`query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id })).webhookEndpoint).toBeNull();
    expect((await other.gql(updateMutation, { input: { id, url: "https://x.example.com/" } })).updateWebhookEndpoint.__typename).toBe(
      "WebhookEndpointNotFound",
    );
    expect((await other.gql(updateMutation, { input: { id: "not-an-id" } })).updateWebhookEndpoint.__typename).toBe(
      "WebhookEndpointNotFound",
    );
    expect((await other.gql(listQuery)).webhookEndpoints.nodes).toEqual([]);
    expect((await owner.gql(`query($id: ID!) { webhookEndpoint(id: $id) { url } }`, { id })).webhookEndpoint.url).toBe(
      "https://hooks.example.com/ledger",
    );
  });

  it("refuses access tokens, even read-write ones, for every webhook field", async () => {
    const tenant = await service.newTenant("endpoint tokens");
    const token = await mintToken(tenant, { scope: "READ_WRITE" });
    const asToken = service.as(tenant, token);
    const made = await asToken.request(createEndpointMutation, create({}));
    expect(made.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const listed = await asToken.request(listQuery);
    expect(listed.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await tenant.gql(listQuery)).webhookEndpoints.nodes).toEqual([]);
  });
});
