import { afterAll, beforeAll, it } from "vitest";
import { startTestService, type TestService, type TestTenant } from "./support/service.js";

let service: TestService;
let tenant: TestTenant;
beforeAll(async () => { service = await startTestService({ pageSizeMax: 2 }); tenant = await service.newTenant("x"); });
afterAll(async () => { await service.stop(); });

const show = (label: string, r: unknown) => console.log(label, JSON.stringify(r).slice(0, 400));

it("explore", async () => {
  show("syntax", await tenant.request("{ limits { "));
  show("syntax2", await tenant.request("query books / { limits { pageSizeMax } }"));
  show("unknownfield", await tenant.request("{ nope }"));
  show("empty", await service.post({}, { authorization: `Bearer ${tenant.key}` }));
  show("batch", await service.post([{ query: "{ __typename }" }], { authorization: `Bearer ${tenant.key}` }));
  show("get-preflight", await (async () => { const r = await fetch(service.service.url + "?query=" + encodeURIComponent("{ limits { pageSizeMax } }"), { headers: { authorization: `Bearer ${tenant.key}`, "apollo-require-preflight": "true" } }); return [r.status, await r.text()]; })());
  show("get-mutation", await (async () => { const r = await fetch(service.service.url + "?query=" + encodeURIComponent("mutation { createCurrency(input: {idempotencyKey: \"g\", code: \"GGG\", scale: 1}) { __typename } }"), { headers: { authorization: `Bearer ${tenant.key}`, "apollo-require-preflight": "true" } }); return [r.status, await r.text()]; })());
  show("fragfirst", await tenant.request(`query($n: Int = 500) { accounts(first: $n) { nodes { id } } }`));
  show("firstnull", await tenant.request(`query($n: Int) { accounts(first: $n) { nodes { id } } }`, { n: null }));
  show("entriesfirst", await tenant.request(`{ accounts { nodes { id } } }`));
});
