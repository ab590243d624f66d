// Starts the real service (HTTP + Apollo + PostgreSQL) for a test file, and makes tenants.
import { afterAll, beforeAll, expect, inject } from "vitest";
import { connectDatabase, type Database } from "../../src/db/client.js";
import { accessOfApiKey, type Access } from "../../src/domain/access.js";
import { limitsDefault, type Limits } from "../../src/domain/limits.js";
import { startService, type LiveOptions, type Service, type ServiceOptions } from "../../src/http/server.js";
import { createApiKey, createTenant } from "../../src/ledger/tenants.js";
import { queryText, type GraphQLDocument } from "./graphql-document.js";
import { checkInvariants } from "./invariants.js";
import { createFundingAccount } from "./ledger-client.js";

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/**
 * A tenant's client. Both calls take a query string (the answer is `any`, or the type given) or a
 * generated document (test/support/graphql-document.ts), whose variables and answer are typed.
 */
export interface TestTenant {
  id: string;
  key: string;
  /** Runs an operation as this tenant; returns the whole response. */
  request<T = any, V = Record<string, unknown>>(query: GraphQLDocument<T, V>, variables?: NoInfer<V>): Promise<GraphQLResponse<T>>;
  /** Runs an operation and fails the test on any GraphQL error. */
  gql<T = any, V = Record<string, unknown>>(query: GraphQLDocument<T, V>, variables?: NoInfer<V>): Promise<T>;
}

/** Sends an operation's text and variables; answers with the whole response. */
export type Transport = (query: string, variables?: unknown) => Promise<GraphQLResponse>;

export interface TestService {
  db: Database;
  service: Service;
  limits: Limits;
  newTenant(name?: string): Promise<TestTenant>;
  /** The tenant's client with another bearer (an access token, say). */
  as(tenant: TestTenant, bearer: string): TestTenant;
  /** Posts a body as it is: JSON text, or an object with the query text (print a generated document). */
  post(body: string | { query: string; [field: string]: unknown }, headers?: Record<string, string>): Promise<GraphQLResponse>;
  stop(): Promise<void>;
}

/**
 * What an API key of the tenant may do, for tests that call src/ledger directly (the key id only
 * matters to rate limits and to the tokens a key mints).
 */
export const apiKeyAccess = (tenantId: string): Access => accessOfApiKey(tenantId, "00000000-0000-4000-8000-000000000000");

export async function startTestService(
  limitOverrides: Partial<Limits> = {},
  live: Partial<LiveOptions> = {},
  options: Partial<ServiceOptions> & { databaseUrl?: string } = {},
): Promise<TestService> {
  const db = connectDatabase(options.databaseUrl ?? inject("databaseUrl"), 40);
  const limits = { ...limitsDefault, ...limitOverrides };
  const service = await startService({ db, limits, production: false, port: 0, host: "127.0.0.1", authCacheMs: 0, live, ...options });

  async function post(body: Parameters<TestService["post"]>[0], headers: Record<string, string> = {}): Promise<GraphQLResponse> {
    const response = await fetch(service.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      json = { errors: [{ message: text }] };
    }
    return { status: response.status, ...json } as GraphQLResponse;
  }

  const clientOf = (id: string, key: string): TestTenant =>
    tenantClient(id, key, (query, variables) => post({ query, variables }, { authorization: `Bearer ${key}` }));

  return {
    db,
    service,
    limits,
    post,
    async newTenant(name = "test") {
      const tenant = await createTenant(db, name);
      const { key } = await createApiKey(db, tenant.id, "test key");
      return clientOf(tenant.id, key);
    },
    as: (tenant, bearer) => clientOf(tenant.id, bearer),
    async stop() {
      await service.stop();
      await db.close();
    },
  };
}

/** A tenant's client over `send` (gql fails the test on any GraphQL error). */
export function tenantClient(id: string, key: string, send: Transport): TestTenant {
  const request: TestTenant["request"] = (query, variables) => send(queryText(query), variables);
  return {
    id,
    key,
    request,
    async gql(query, variables) {
      const response = await request(query, variables);
      if (response.errors?.length || !response.data) {
        throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
      }
      return response.data;
    },
  };
}

/**
 * A value a test file makes in a beforeAll but names at its top level: reads forward to the value
 * once `set` has run (the file's tests run after its beforeAll hooks).
 */
function lateBound<T extends object>(what: string): { proxy: T; set(value: T): void; get(): T | undefined } {
  let current: T | undefined;
  const proxy = new Proxy({} as T, {
    get(_, property) {
      if (!current) throw new Error(`${what} is used before its beforeAll ran`);
      return current[property as keyof T];
    },
  });
  return { proxy, set: (value) => (current = value), get: () => current };
}

/**
 * The test file's service: started before its first test; after its last, every ledger invariant
 * is checked and the service stopped. A file reads `const service = useTestService()`.
 */
export function useTestService(...args: Parameters<typeof startTestService>): TestService {
  const service = lateBound<TestService>("the test service");
  beforeAll(async () => {
    service.set(await startTestService(...args));
  });
  afterAll(async () => {
    const running = service.get();
    if (!running) return;
    expect(await checkInvariants(running.db.pool)).toEqual([]);
    await running.stop();
  });
  return service.proxy;
}

/** A new tenant of the file's service with a funding account (unbounded, USD) to pay from. */
export function useFundedTenant(service: TestService, name: string): { tenant: TestTenant; funding: { id: string; code: string } } {
  const tenant = lateBound<TestTenant>(`tenant "${name}"`);
  const funding = lateBound<{ id: string; code: string }>(`the funding account of "${name}"`);
  beforeAll(async () => {
    tenant.set(await service.newTenant(name));
    funding.set(await createFundingAccount(tenant.proxy));
  });
  return { tenant: tenant.proxy, funding: funding.proxy };
}
