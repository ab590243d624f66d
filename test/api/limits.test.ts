// Operation limits, batch limits and the HTTP edge (body size, CSRF, JSON), through the API over HTTP.
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertResult,
  balanceOf,
  createAccount,
  createFundingAccount,
  expectResult,
  key,
  postTransfer,
  postTransfersMutation,
  transferBetween,
  transferResultFields,
} from "../support/ledger-client.js";
import {
  startTestService,
  type GraphQLResponse,
  type TestService,
  type TestTenant,
  useFundedTenant,
  useTestService,
} from "../support/service.js";
import type { LegInput } from "../generated/operations.js";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "limits");
/** A second service on the same database with small limits, for limits that are costly to reach at their defaults. */
let small: TestService;
let smallTenant: TestTenant;

beforeAll(async () => {
  small = await startTestService({ pageSizeMax: 2, transferBatchSizeMax: 3 });
  smallTenant = await small.newTenant("limits-small");
});

afterAll(async () => {
  await small.stop();
});

// ------------------------------------------------------------------ helpers

/** Accounts of a tenant whose code starts with `prefix`, straight from PostgreSQL. */
async function accountsWithPrefix(tenantId: string, prefix: string): Promise<number> {
  const { rows } = await service.db.pool.query(`SELECT count(*)::int AS n FROM accounts WHERE tenant_id = $1 AND starts_with(code, $2)`, [
    tenantId,
    prefix,
  ]);
  return rows[0].n;
}

async function transferCount(tenantId: string): Promise<number> {
  const { rows } = await service.db.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE tenant_id = $1`, [tenantId]);
  return rows[0].n;
}

/** A createAccount mutation with a literal input and the given selection on AccountCreated. */
function createAccountOperation(code: string, selection = "account { id }", alias = ""): string {
  return `${alias ? `${alias}: ` : ""}createAccount(input: { idempotencyKey: "${code}", code: "${code}", name: "n", currency: "USD", normalSide: CREDIT }) {
    __typename ... on AccountCreated { ${selection} } }`;
}

/**
 * A selection on Account that is `levels` fields deep (the last one `__typename`), cycling
 * Account.entries -> EntryConnection.nodes -> Entry.transfer -> Transfer.entries -> Entry.account.
 */
function accountChain(levels: number): string {
  const cycle = ["entries", "nodes", "transfer", "entries", "account"];
  const fields = Array.from({ length: levels - 1 }, (_, i) => cycle[i % cycle.length]!);
  return fields.reduceRight((inner, field) => `${field} { ${inner} }`, "__typename");
}

/** A query exactly `depth` fields deep. */
const queryOfDepth = (depth: number) => `query { account(code: "no-such-account") { ${accountChain(depth - 1)} } }`;

/** A request refused before execution: one error, no data. Token limits are enforced while parsing. */
function expectValidationError(response: GraphQLResponse, pattern: RegExp, codes = ["LIMIT_EXCEEDED"]): void {
  expect(response.data).toBeUndefined();
  expect(response.errors).toHaveLength(1);
  expect(response.errors?.[0]?.message).toMatch(pattern);
  // Limits are not syntax errors: a stable code naming the setting, an honest message.
  expect(response.errors?.[0]?.message).not.toMatch(/Syntax Error/);
  expect(codes).toContain(response.errors?.[0]?.extensions?.code);
  expect(response.errors?.[0]?.extensions?.limit).toMatch(/^query\w+Max$/);
}

/** graphql-js's parser says "Document contains more that N tokens"; GraphQL Armor "Token limit of N exceeded". */
const tokenLimitMessage = (n: number) => new RegExp(`Token limit of ${n} exceeded|contains more tha[nt] ${n} tokens`);
const tokenErrorCodes = ["LIMIT_EXCEEDED"];

function expectPageSizeError(response: GraphQLResponse, limits = service.limits): void {
  expect(response.status).toBe(400);
  expect(response.data).toBeUndefined();
  expect(response.errors).toHaveLength(1);
  expect(response.errors?.[0]?.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "pageSizeMax", max: limits.pageSizeMax });
}

const bearer = () => ({ authorization: `Bearer ${tenant.key}` });
const healthUrl = () => service.service.url.replace(/\/graphql$/, "/healthz");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fetchText(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text() };
}

// ------------------------------------------------------------------ operation limits

describe("operation limits", () => {
  it("accepts a query exactly queryDepthMax deep", async () => {
    const response = await tenant.request(queryOfDepth(service.limits.queryDepthMax));
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ account: null });
  });

  it("rejects a query one level deeper than queryDepthMax with a validation error", async () => {
    const depthMax = service.limits.queryDepthMax;
    const response = await tenant.request(queryOfDepth(depthMax + 1));
    expect(response.status).toBe(400);
    expectValidationError(response, new RegExp(`depth limit of ${depthMax} exceeded, found ${depthMax + 1}`));
  });

  it("rejects a mutation deeper than queryDepthMax before it creates anything", async () => {
    const code = key("deep");
    const operation = `mutation { ${createAccountOperation(code, `account { ${accountChain(service.limits.queryDepthMax)} }`)} }`;
    const response = await tenant.request(operation);
    expect(response.status).toBe(400);
    expectValidationError(response, /depth limit/);
    expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
  });

  it("accepts queryAliasesMax aliases and rejects one more with a validation error", async () => {
    const aliased = (n: number) => `query { ${Array.from({ length: n }, (_, i) => `a${i}: limits { pageSizeMax }`).join(" ")} }`;
    const atLimit = await tenant.request(aliased(service.limits.queryAliasesMax));
    expect(atLimit.errors).toBeUndefined();
    expect(Object.keys(atLimit.data ?? {})).toHaveLength(service.limits.queryAliasesMax);

    const over = await tenant.request(aliased(service.limits.queryAliasesMax + 1));
    expect(over.status).toBe(400);
    expectValidationError(over, new RegExp(`Aliases limit of ${service.limits.queryAliasesMax} exceeded`));
  });

  it("rejects a mutation with more aliases than queryAliasesMax before it creates anything", async () => {
    const prefix = key("alias");
    const count = service.limits.queryAliasesMax + 1;
    const operation = `mutation { ${Array.from({ length: count }, (_, i) => createAccountOperation(`${prefix}-${i}`, "account { id }", `a${i}`)).join("\n")} }`;
    const response = await tenant.request(operation);
    expect(response.status).toBe(400);
    expectValidationError(response, /Aliases limit/);
    expect(await accountsWithPrefix(tenant.id, prefix)).toBe(0);
  });

  it("rejects a mutation over queryTokensMax with a validation error before it creates anything", async () => {
    const code = key("tokens");
    const pad = Array.from({ length: service.limits.queryTokensMax + 1 }, () => "0").join(",");
    const operation = `mutation { createAccount(input: { idempotencyKey: "${code}", code: "${code}", name: "n", currency: "USD",
      normalSide: CREDIT, metadata: { pad: [${pad}] } }) { __typename } }`;
    const response = await tenant.request(operation);
    expectValidationError(response, tokenLimitMessage(service.limits.queryTokensMax), tokenErrorCodes);
    expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
  });

  it("answers a query over queryTokensMax with HTTP 400, like every other validation error", async () => {
    const operation = `query { limits { ${"pageSizeMax ".repeat(service.limits.queryTokensMax + 1)} } }`;
    const response = await tenant.request(operation);
    expectValidationError(response, tokenLimitMessage(service.limits.queryTokensMax), tokenErrorCodes);
    expect(response.status).toBe(400);
  });

  it("rejects a query over queryCostMax with a validation error", async () => {
    const operation = `query { accounts(first: 100) { nodes { code entries(first: 100) { nodes { amount transfer { entries { account { code name } amount } } } } } } }`;
    const response = await tenant.request(operation);
    expect(response.status).toBe(400);
    expectValidationError(response, new RegExp(`Query Cost limit of ${service.limits.queryCostMax} exceeded`));
  });

  it("rejects a mutation over queryCostMax before it creates anything", async () => {
    const code = key("cost");
    const selection = `account { entries(first: 100) { nodes { transfer { entries { account { entries(first: 100) { nodes { amount } } } } } } } }`;
    const response = await tenant.request(`mutation { ${createAccountOperation(code, selection)} }`);
    expect(response.status).toBe(400);
    expectValidationError(response, /Query Cost limit/);
    expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
  });

  it("counts a page size given as a variable in the query cost, as it does a literal one", async () => {
    const operation = `query($n: Int) { accounts(first: $n) { nodes { code entries(first: $n) { nodes { amount transfer { entries { account { code name } amount } } } } } } }`;
    const response = await tenant.request(operation, { n: 100 });
    expect(response.status).toBe(400);
    expectValidationError(response, /Query Cost limit/);
  });
});

// ------------------------------------------------------------------ page size

describe("page size", () => {
  it("accepts first equal to pageSizeMax", async () => {
    const response = await tenant.request(`query { accounts(first: ${service.limits.pageSizeMax}) { nodes { id } } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data.accounts.nodes.length).toBeGreaterThan(0);
  });

  it("rejects first above pageSizeMax given as a literal with LIMIT_EXCEEDED", async () => {
    expectPageSizeError(await tenant.request(`query { accounts(first: ${service.limits.pageSizeMax + 1}) { nodes { id } } }`));
  });

  it("rejects first above pageSizeMax given as a variable with LIMIT_EXCEEDED", async () => {
    const operation = `query($n: Int) { transfers(first: $n) { nodes { id } } }`;
    expectPageSizeError(await tenant.request(operation, { n: service.limits.pageSizeMax + 1 }));
  });

  it("rejects first above pageSizeMax on a nested connection with LIMIT_EXCEEDED", async () => {
    const operation = `query($id: ID!) { account(id: $id) { entries(first: ${service.limits.pageSizeMax + 1}) { nodes { id } } } }`;
    expectPageSizeError(await tenant.request(operation, { id: funding.id }));
  });

  it("rejects a mutation selecting a page above pageSizeMax before it creates anything", async () => {
    const code = key("page");
    const selection = `account { entries(first: ${service.limits.pageSizeMax + 1}) { nodes { id } } }`;
    expectPageSizeError(await tenant.request(`mutation { ${createAccountOperation(code, selection)} }`));
    expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
  });

  it("rejects first above pageSizeMax given as a variable's default value", async () => {
    const prefix = key("default");
    for (let i = 0; i <= small.limits.pageSizeMax; i++) await createAccount(smallTenant, { code: `${prefix}-${i}` });
    const operation = `query($n: Int = ${small.limits.pageSizeMax + 1}, $p: String) { accounts(first: $n, filter: { codePrefix: $p }) { nodes { id } } }`;
    const response = await smallTenant.request(operation, { p: prefix });
    expectPageSizeError(response, small.limits);
  });

  it("never returns more than pageSizeMax items, even when first is left to its schema default", async () => {
    const prefix = key("schema-default");
    for (let i = 0; i <= small.limits.pageSizeMax; i++) await createAccount(smallTenant, { code: `${prefix}-${i}` });
    const response = await smallTenant.request(`query($p: String) { accounts(filter: { codePrefix: $p }) { nodes { id } } }`, {
      p: prefix,
    });
    const served = response.data?.accounts?.nodes?.length ?? 0;
    expect(served).toBeLessThanOrEqual(small.limits.pageSizeMax);
  });
});

// ------------------------------------------------------------------ batches and legs

describe("batch and leg limits", () => {
  const items = (n: number, to: { id: string }) =>
    Array.from({ length: n }, () => ({
      idempotencyKey: key("batch"),
      from: { id: funding.id },
      to: { id: to.id },
      amount: "1",
      currency: "USD",
    }));

  it.each([true, false])(
    "answers postTransfers over transferBatchSizeMax with LimitExceeded and posts nothing (atomic: %s)",
    async (atomic) => {
      const target = await createAccount(tenant);
      const transfersBefore = await transferCount(tenant.id);
      const fundingBefore = await balanceOf(tenant, funding.id);

      const data = await tenant.gql(postTransfersMutation, {
        input: { atomic, transfers: items(service.limits.transferBatchSizeMax + 1, target) },
      });
      expect(data.postTransfers).toMatchObject({
        __typename: "LimitExceeded",
        code: "LimitExceeded",
        limit: "transferBatchSizeMax",
        max: String(service.limits.transferBatchSizeMax),
      });
      expect(await transferCount(tenant.id)).toBe(transfersBefore);
      expect(await balanceOf(tenant, funding.id)).toEqual(fundingBefore);
      expect((await balanceOf(tenant, target.id)).version).toBe("0");
    },
  );

  it("posts a batch of exactly transferBatchSizeMax and refuses one more item", async () => {
    const smallFunding = await createFundingAccount(smallTenant);
    const target = await createAccount(smallTenant);
    const batch = (n: number) =>
      Array.from({ length: n }, () => ({
        idempotencyKey: key("small"),
        from: { id: smallFunding.id },
        to: { id: target.id },
        amount: "5",
        currency: "USD",
      }));

    const over = await smallTenant.gql(postTransfersMutation, {
      input: { atomic: true, transfers: batch(small.limits.transferBatchSizeMax + 1) },
    });
    expect(over.postTransfers).toMatchObject({
      __typename: "LimitExceeded",
      limit: "transferBatchSizeMax",
      max: String(small.limits.transferBatchSizeMax),
    });
    expect((await balanceOf(smallTenant, target.id)).version).toBe("0");

    const atLimit = await smallTenant.gql(postTransfersMutation, {
      input: { atomic: true, transfers: batch(small.limits.transferBatchSizeMax) },
    });
    expect(atLimit.postTransfers).toMatchObject({ __typename: "TransfersPosted", allSucceeded: true });
    expect(expectResult(atLimit.postTransfers, "TransfersPosted").results).toHaveLength(small.limits.transferBatchSizeMax);
    expect(await balanceOf(smallTenant, target.id)).toMatchObject({
      posted: String(5 * small.limits.transferBatchSizeMax),
      version: String(small.limits.transferBatchSizeMax),
    });
  });

  it("answers a transfer with more legs than legsPerTransferMax with LimitExceeded and posts nothing", async () => {
    const transfersBefore = await transferCount(tenant.id);
    const legCount = service.limits.legsPerTransferMax + 2;
    const legs: LegInput[] = Array.from({ length: legCount }, (_, i) => ({
      account: { code: `legs-${i}-${randomUUID()}` },
      direction: i % 2 === 0 ? "DEBIT" : "CREDIT",
      amount: "1",
      currency: "USD",
    }));
    const result = await postTransfer(tenant, { legs });
    expect(result).toMatchObject({
      __typename: "LimitExceeded",
      limit: "legsPerTransferMax",
      max: String(service.limits.legsPerTransferMax),
    });
    expect(await transferCount(tenant.id)).toBe(transfersBefore);
  });
});

// ------------------------------------------------------------------ HTTP

describe("HTTP", () => {
  it("answers a request body over 1 MiB with HTTP 413 and does no work", async () => {
    const code = key("big");
    const body = JSON.stringify({
      query: `mutation { ${createAccountOperation(code)} }`,
      variables: { pad: "x".repeat(1024 * 1024) },
    });
    const response = await service.post(body, bearer());
    expect(response.status).toBe(413);
    expect(response.errors?.[0]?.message).toMatch(/exceeds 1048576 bytes/);
    expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
  });

  it("leaves the connection usable after a 413: it closes it or answers the next request on it", async () => {
    // Raw HTTP/1.1 on one socket: a 3 MiB body (refused), then a second request behind it.
    const socket = connect(service.service.port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => undefined);
    const body = "x".repeat(3 * 1024 * 1024);
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );

    const waitFor = async (done: () => boolean) => {
      for (let i = 0; i < 300 && !done(); i++) await Promise.race([sleep(50), closed]);
    };
    await waitFor(() => /exceeds 1048576 bytes.*\}\]\}/s.test(received) || socket.destroyed);
    const [head] = received.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    if (/^connection: close$/im.test(head ?? "")) {
      await closed;
      return;
    }
    // The server keeps the connection: it must then read past the refused body and answer the next request.
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await waitFor(() => /HTTP\/1\.1 [\s\S]*HTTP\/1\.1 \d{3}/.test(received) || socket.destroyed);
    socket.destroy();
    expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(["HTTP/1.1 413", "HTTP/1.1 200"]);
  });

  it("accepts a request body just under 1 MiB", async () => {
    const query = `query { limits { pageSizeMax } }`;
    const overhead = JSON.stringify({ query, variables: { pad: "" } }).length;
    const body = JSON.stringify({ query, variables: { pad: "x".repeat(1024 * 1024 - overhead - 16) } });
    expect(body.length).toBeLessThan(1024 * 1024);
    const response = await service.post(body, bearer());
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ limits: { pageSizeMax: service.limits.pageSizeMax } });
  });

  it("blocks a GET query without a content-type or preflight header as a potential CSRF", async () => {
    const url = `${service.service.url}?query=${encodeURIComponent("{ limits { pageSizeMax } }")}`;
    const blocked = await fetchText(url, { headers: bearer() });
    expect(blocked.status).toBe(400);
    const json = JSON.parse(blocked.body);
    expect(json.data).toBeUndefined();
    expect(json.errors[0].message).toMatch(/blocked as a potential Cross-Site Request Forgery \(CSRF\)/);
    expect(json.errors[0].extensions.code).toBe("BAD_REQUEST");

    // The same GET with Apollo's preflight header goes through.
    const allowed = await fetchText(url, { headers: { ...bearer(), "apollo-require-preflight": "true" } });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body)).toEqual({ data: { limits: { pageSizeMax: service.limits.pageSizeMax } } });
  });

  it.each(["text/plain", "application/x-www-form-urlencoded"])(
    "blocks a POST with content-type %s as a potential CSRF and does no work",
    async (contentType) => {
      const code = key("csrf");
      const response = await fetchText(service.service.url, {
        method: "POST",
        headers: { ...bearer(), "content-type": contentType },
        body: JSON.stringify({ query: `mutation { ${createAccountOperation(code)} }` }),
      });
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).errors[0].message).toMatch(/Cross-Site Request Forgery/);
      expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
    },
  );

  it("refuses a mutation over GET with HTTP 405 and does no work", async () => {
    const code = key("get");
    const url = `${service.service.url}?query=${encodeURIComponent(`mutation { ${createAccountOperation(code)} }`)}`;
    const response = await fetchText(url, { headers: { ...bearer(), "apollo-require-preflight": "true" } });
    expect(response.status).toBe(405);
    expect(await accountsWithPrefix(tenant.id, code)).toBe(0);
  });

  it("answers malformed JSON with HTTP 400", async () => {
    const response = await service.post(`{"query": "{ limits { pageSizeMax } }"`, bearer());
    expect(response.status).toBe(400);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.message).toMatch(/^request body is not valid JSON: /);
    expect(response.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
  });

  it("answers a GraphQL syntax error with HTTP 400", async () => {
    const response = await tenant.request(`query { limits { pageSizeMax }`);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.message).toMatch(/Syntax Error/);
    expect(response.status).toBe(400);
  });

  it("answers /healthz with 200 and no credentials", async () => {
    const response = await fetchText(healthUrl());
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: "ok" });
  });

  it("answers an unknown path with 404", async () => {
    const response = await fetchText(service.service.url.replace(/\/graphql$/, "/nope"), { headers: bearer() });
    expect(response.status).toBe(404);
  });
});

// ------------------------------------------------------------------ README-style operations

describe("README-style operations", () => {
  let merchant: { id: string; code: string };
  let transferId: string;

  beforeAll(async () => {
    merchant = await createAccount(tenant, { code: key("merchant:shirtypuff:available") });
    const posted = await transferBetween(tenant, funding.id, merchant.id, "1050");
    assertResult(posted, "TransferPosted");
    transferId = posted.transfer.id;
  });

  it("passes the default limits: an account with its balance and entries down to each entry's transfer legs", async () => {
    const operation = `query Account($code: String!) {
      account(code: $code) {
        id code name currency { code scale } normalSide minBalance maxBalance metadata createdAt
        balance { posted pending available debitsPosted creditsPosted version }
        entries {
          edges { cursor node { id direction amount createdAt balanceAfter { posted version }
            transfer { id description entries { account { code } amount } } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }`;
    const response = await tenant.request(operation, { code: merchant.code });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    const { account } = response.data;
    expect(account.balance).toMatchObject({ posted: "1050", version: "1" });
    expect(account.entries.edges).toHaveLength(1);
    expect(account.entries.edges[0].node.transfer).toMatchObject({
      id: transferId,
      entries: [
        { account: { code: funding.code }, amount: "1050" },
        { account: { code: merchant.code }, amount: "1050" },
      ],
    });
  });

  it("passes the default limits: posting a transfer and reading every field of the result", async () => {
    const response = await tenant.request(
      `mutation Post($input: TransferInput!) { postTransfer(input: $input) { ${transferResultFields} } }`,
      {
        input: {
          idempotencyKey: key("readme"),
          from: { id: funding.id },
          to: { code: merchant.code },
          amount: "1",
          currency: "USD",
          description: "readme",
        },
      },
    );
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data.postTransfer).toMatchObject({ __typename: "TransferPosted", replay: false, transfer: { description: "readme" } });
  });

  it("passes the default limits: listing accounts and transfers a page at a time", async () => {
    const operation = `query Lists($prefix: String, $account: ID) {
      accounts(first: 20, filter: { codePrefix: $prefix }) {
        edges { cursor node { id code balance { posted available } } } pageInfo { hasNextPage endCursor } }
      transfers(first: 20, filter: { accountId: $account }) {
        edges { cursor node { id createdAt entries { account { code } direction amount } } } pageInfo { hasNextPage endCursor } }
      limits { pageSizeMax queryDepthMax queryCostMax }
    }`;
    const response = await tenant.request(operation, { prefix: merchant.code, account: merchant.id });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data.accounts.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([merchant.id]);
    expect(response.data.transfers.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(transferId);
  });
});
