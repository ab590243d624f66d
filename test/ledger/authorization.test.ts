// Authorization where the ledger acts: every writing function of src/ledger, called directly (as a
// CLI or another API would, with no GraphQL in front), refuses what the bearer may not do with
// AccessDenied and writes nothing; an API key, and a token limited to the accounts involved, pass.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessOfToken, type Access } from "../../src/domain/access.js";
import { limitsDefault } from "../../src/domain/limits.js";
import { mintAccessToken } from "../../src/ledger/access-tokens.js";
import { createAccount, updateAccount } from "../../src/ledger/accounts.js";
import { AccessDenied } from "../../src/ledger/authorization.js";
import { createCurrency } from "../../src/ledger/currencies.js";
import { captureHold, createHold, voidHold } from "../../src/ledger/holds.js";
import { reverseTransfer } from "../../src/ledger/reversals.js";
import { postTransfers } from "../../src/ledger/transfers.js";
import { checkInvariants } from "../support/invariants.js";
import {
  createAccount as createAccountThroughApi,
  createFundingAccount,
  createHold as createHoldThroughApi,
  expectResult,
  key,
  transferBetween,
} from "../support/ledger-client.js";
import { ledgerState } from "../support/ledger-state.js";
import { apiKeyAccess, startTestService, type TestService, type TestTenant } from "../support/service.js";

let service: TestService;
let tenant: TestTenant;
let funding: string;
let shop: string;
let other: string;
let holdId: string;
let transferId: string;

const raw = (globalId: string) => globalId.slice(globalId.indexOf("_") + 1);

function token(scope: Access["scope"], accounts: string[] | null): Access {
  const now = new Date();
  return accessOfToken({
    tenantId: tenant.id,
    keyId: "00000000-0000-4000-8000-000000000000",
    scope,
    accountIds: accounts?.map(raw) ?? null,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + 60_000),
  });
}

beforeAll(async () => {
  service = await startTestService();
  tenant = await service.newTenant("ledger authorization");
  funding = (await createFundingAccount(tenant)).id;
  shop = (await createAccountThroughApi(tenant)).id;
  other = (await createAccountThroughApi(tenant)).id;
  holdId = expectResult(
    await createHoldThroughApi(tenant, { from: { id: funding }, to: { id: shop }, amount: "10", currency: "USD", expiresInSeconds: 600 }),
    "HoldCreated",
  ).hold.id;
  transferId = expectResult(await transferBetween(tenant, funding, shop, "20"), "TransferPosted").transfer.id;
});

afterAll(async () => {
  expect(await checkInvariants(service.db.pool)).toEqual([]);
  await service?.stop();
});

/** Each ledger write, as `access` would call it. */
const writes: [string, (access: Access) => Promise<unknown>][] = [
  [
    "createAccount",
    (access) =>
      createAccount(
        service.db,
        access,
        { idempotencyKey: key(), code: key("code"), name: "a", normalSide: "CREDIT", currency: "USD" },
        limitsDefault,
      ),
  ],
  ["updateAccount", (access) => updateAccount(service.db, access, { idempotencyKey: key(), id: other, name: "renamed" }, limitsDefault)],
  ["createCurrency", (access) => createCurrency(service.db, access, { idempotencyKey: key(), code: "XAU", scale: 3 }, limitsDefault)],
  [
    "postTransfers",
    (access) =>
      postTransfers(
        service.db,
        access,
        [{ idempotencyKey: key(), from: { id: funding }, to: { id: other }, amount: "1", currency: "USD" }],
        true,
        limitsDefault,
      ),
  ],
  [
    "createHold",
    (access) =>
      createHold(
        service.db,
        access,
        { idempotencyKey: key(), from: { id: funding }, to: { id: other }, amount: "1", currency: "USD", expiresInSeconds: 60 },
        limitsDefault,
      ),
  ],
  ["captureHold", (access) => captureHold(service.db, access, { idempotencyKey: key(), holdId, amount: "1" }, limitsDefault)],
  ["voidHold", (access) => voidHold(service.db, access, { idempotencyKey: key(), holdId }, limitsDefault)],
  ["reverseTransfer", (access) => reverseTransfer(service.db, access, { idempotencyKey: key(), transferId, amount: "1" }, limitsDefault)],
  ["mintAccessToken", (access) => mintAccessToken(service.db, access, { scope: "READ_ONLY" }, limitsDefault, Buffer.alloc(32, 1))],
];

describe("authorization in the ledger layer", () => {
  const bearers: [string, () => Access, RegExp][] = [
    ["a read-only token", () => token("READ_ONLY", null), /read-only|needs an API key/],
    [
      "a read-write token limited to an account none of these writes is only on",
      () => token("READ_WRITE", [funding]),
      /not limited to|outside its accounts|needs an API key/,
    ],
  ];
  for (const [bearer, accessOf, message] of bearers) {
    it(`refuses ${bearer} in every write function, before anything is written`, async () => {
      const before = await ledgerState(service.db.pool, tenant.id);
      for (const [name, write] of writes) {
        const refusal = await write(accessOf()).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refusal, name).toBeInstanceOf(AccessDenied);
        expect((refusal as Error).message, name).toMatch(message);
      }
      expect(await ledgerState(service.db.pool, tenant.id)).toEqual(before);
    });
  }

  it("lets a read-write token limited to the accounts involved move money on them, and only an API key create accounts", async () => {
    const limited = token("READ_WRITE", [funding, shop]);
    const posted = await postTransfers(
      service.db,
      limited,
      [{ idempotencyKey: key(), from: { id: funding }, to: { id: shop }, amount: "2", currency: "USD" }],
      true,
      limitsDefault,
    );
    expect(posted.ok && posted.outcomes[0]!.ok).toBe(true);
    const captured = await captureHold(service.db, limited, { idempotencyKey: key(), holdId, amount: "3" }, limitsDefault);
    expect(captured.ok).toBe(true);
    await expect(
      createAccount(
        service.db,
        limited,
        { idempotencyKey: key(), code: key("code"), name: "a", normalSide: "CREDIT", currency: "USD" },
        limitsDefault,
      ),
    ).rejects.toThrow(/not limited to accounts/);
    const created = await createAccount(
      service.db,
      apiKeyAccess(tenant.id),
      { idempotencyKey: key(), code: key("code"), name: "a", normalSide: "CREDIT", currency: "USD" },
      limitsDefault,
    );
    expect(created.ok).toBe(true);
  });
});
