// The browser apps over plain HTTP: served from dist/web with a same-origin CSP, no path escapes
// the app's folder, and in production GraphiQL, the dashboard and introspection are off unless
// switched on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { connectDatabase, type Database } from "../../src/db/client.js";
import { limitsDefault } from "../../src/domain/limits.js";
import { startService, type Service } from "../../src/http/server.js";
import { connectLive } from "../support/live-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";

let dev: TestService;
let tenant: TestTenant;
let db: Database;
const started: Service[] = [];
const introspection = `{ __schema { queryType { name } } }`;

async function production(overrides: { graphiql?: boolean; dashboard?: boolean; introspection?: boolean } = {}): Promise<Service> {
  const service = await startService({
    db,
    limits: limitsDefault,
    production: true,
    port: 0,
    host: "127.0.0.1",
    authCacheMs: 0,
    ...overrides,
  });
  started.push(service);
  return service;
}

async function introspect(service: Service) {
  const response = await fetch(service.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${tenant.key}` },
    body: JSON.stringify({ query: introspection }),
  });
  return response.json();
}

const origin = (service: Service) => service.url.replace(/\/graphql$/, "");
const get = (service: Service, path: string) => fetch(origin(service) + path, { redirect: "manual" });

beforeAll(async () => {
  dev = await startTestService();
  tenant = await dev.newTenant("web");
  db = connectDatabase(inject("databaseUrl"), 5);
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await db.close();
  await dev.stop();
});

describe("served apps", () => {
  for (const app of ["graphiql", "dashboard"]) {
    it(`serves ${app} at /${app}/ with a same-origin content security policy`, async () => {
      const page = await get(dev.service, `/${app}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("connect-src 'self' ws: wss:");
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith("data:"));
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        expect(asset, "assets come from the service itself").toMatch(new RegExp(`^/${app}/`));
        const file = await get(dev.service, asset);
        expect(file.status, asset).toBe(200);
        if (asset.includes("/assets/")) expect(file.headers.get("cache-control"), asset).toContain("immutable");
      }
    });

    it(`redirects /${app} to /${app}/ and answers unknown files with 404`, async () => {
      const bare = await get(dev.service, `/${app}`);
      expect(bare.status).toBe(308);
      expect(bare.headers.get("location")).toBe(`/${app}/`);
      expect((await get(dev.service, `/${app}/nope.js`)).status).toBe(404);
    });
  }

  it("never serves a file outside the app's folder", async () => {
    for (const path of [
      "/graphiql/%2e%2e%2f%2e%2e%2fpackage.json",
      "/graphiql/..%2f..%2fpackage.json",
      "/dashboard/..%2fgraphiql%2findex.html",
      "/graphiql/%00",
    ]) {
      const response = await get(dev.service, path);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('"name": "graphql-ledger"');
    }
  });

  it("redirects / to GraphiQL", async () => {
    const response = await get(dev.service, "/");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/graphiql/");
  });
});

describe("in production", () => {
  it("serves neither app and refuses introspection over HTTP and WebSocket by default", async () => {
    const service = await production();
    expect((await get(service, "/graphiql/")).status).toBe(404);
    expect((await get(service, "/dashboard/")).status).toBe(404);
    const body = await introspect(service);
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);

    const client = connectLive(service.url, tenant.key);
    const refused = client.subscribe(introspection);
    await refused.ended();
    expect(JSON.stringify(refused.errors)).toMatch(/introspection/i);
    await client.dispose();
  });

  it("serves GraphiQL with introspection when both are switched on", async () => {
    const service = await production({ graphiql: true, introspection: true });
    expect((await get(service, "/graphiql/")).status).toBe(200);
    expect((await get(service, "/dashboard/")).status).toBe(404);
    expect(await introspect(service)).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
  });
});
