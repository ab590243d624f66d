// Currencies through the GraphQL API: createCurrency, its validation and idempotency.
import { accountInput, accountReads, create, createCurrency, createCurrencyMutation, currencyCode } from "../support/accounts-api.js";
import { key } from "../support/ledger-client.js";
import { describe, expect, it } from "vitest";
import { useFundedTenant, useTestService } from "../support/service.js";

const service = useTestService();
const { tenant } = useFundedTenant(service, "currencies");
const { tenantState } = accountReads(service);

// ------------------------------------------------------------------ createCurrency

describe("createCurrency", () => {
  it("creates a custom currency that a new account can use", async () => {
    const code = currencyCode();
    const result = await createCurrency(tenant, { code, scale: 3 });
    expect(result).toMatchObject({ __typename: "CurrencyCreated", replay: false, currency: { code, scale: 3 } });

    const account = await create(tenant, accountInput({ currency: code }));
    expect(account).toMatchObject({ __typename: "AccountCreated", account: { currency: { code, scale: 3 } } });
    expect((await tenant.gql(`query($code: String!) { currency(code: $code) { code scale } }`, { code })).currency).toEqual({
      code,
      scale: 3,
    });
    const { currencies } = await tenant.gql(`{ currencies { code scale } }`);
    expect(currencies).toContainEqual({ code, scale: 3 });
  });

  it("marks a tenant's own currency custom: true and the seeded ones custom: false", async () => {
    const code = currencyCode();
    expect((await createCurrency(tenant, { code, scale: 1 })).__typename).toBe("CurrencyCreated");
    const response = await tenant.request(
      `query($code: String!) { mine: currency(code: $code) { code custom } usd: currency(code: "USD") { code custom } }`,
      {
        code,
      },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ mine: { code, custom: true }, usd: { code: "USD", custom: false } });
  });

  it("answers CurrencyCodeTaken for USD and creates nothing", async () => {
    const before = await tenantState(tenant.id);
    const result = await createCurrency(tenant, { code: "USD", scale: 2 });
    expect(result).toMatchObject({ __typename: "CurrencyCodeTaken", code: "CurrencyCodeTaken", currency: "USD", replay: false });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it("answers CurrencyCodeTaken for a repeat under a new key, and replays the original under its key", async () => {
    const code = currencyCode();
    const idempotencyKey = key("cur");
    expect(await createCurrency(tenant, { idempotencyKey, code, scale: 0 })).toMatchObject({
      __typename: "CurrencyCreated",
      replay: false,
    });
    const before = await tenantState(tenant.id);
    expect(await createCurrency(tenant, { code, scale: 0 })).toMatchObject({
      __typename: "CurrencyCodeTaken",
      currency: code,
      replay: false,
    });
    expect(await createCurrency(tenant, { idempotencyKey, code, scale: 0 })).toMatchObject({
      __typename: "CurrencyCreated",
      replay: true,
      currency: { code, scale: 0 },
    });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ["scale -1", { scale: -1 }, "scale", "CURRENCY_SCALE_RANGE"],
    ["scale 19", { scale: 19 }, "scale", "CURRENCY_SCALE_RANGE"],
    ["a lower-case code", { code: "points" }, "code", "CURRENCY_CODE_FORMAT"],
    ["a code with a hyphen", { code: "MY-PTS" }, "code", "CURRENCY_CODE_FORMAT"],
  ])("answers InvalidInput for %s and creates nothing", async (_, over, field, reason) => {
    const before = await tenantState(tenant.id);
    const result = await createCurrency(tenant, { code: currencyCode(), scale: 2, ...over });
    expect(result).toMatchObject({ __typename: "InvalidInput", field, reason });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it("rejects a fractional scale as a GraphQL input error and creates nothing", async () => {
    const before = await tenantState(tenant.id);
    const response = await tenant.request(createCurrencyMutation, {
      input: { idempotencyKey: key("cur"), code: currencyCode(), scale: 1.5 },
    });
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.message).toMatch(/Int cannot represent non-integer value: 1.5/);
    expect(await tenantState(tenant.id)).toEqual(before);
  });
});
