// Access tokens and access checks: pure functions, no database.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  accessOfApiKey,
  accessOfToken,
  checkTokenRequest,
  decodeAccessToken,
  encodeAccessToken,
  firstForbiddenAccount,
  mayUseAccount,
  type TokenClaims,
} from "../../src/domain/access.js";

const secret = Buffer.alloc(32, 7);
const otherSecret = Buffer.alloc(32, 8);
const tenantId = "11111111-1111-4111-8111-111111111111";
const keyId = "22222222-2222-4222-8222-222222222222";
const accountA = "33333333-3333-4333-8333-333333333333";
const accountB = "44444444-4444-4444-8444-444444444444";
const issuedAt = new Date("2026-11-21T10:00:00Z");
const claims: TokenClaims = {
  tenantId,
  keyId,
  scope: "READ_ONLY",
  accountIds: [accountA],
  issuedAt,
  expiresAt: new Date("2026-11-21T10:15:00Z"),
};
const token = encodeAccessToken(claims, secret);
/** A 1 s token minted at .900: it must live until 01.900, not until the next whole second. */
const subSecond: TokenClaims = {
  ...claims,
  issuedAt: new Date("2026-11-21T10:00:00.900Z"),
  expiresAt: new Date("2026-11-21T10:00:01.900Z"),
};
const [body, signature] = token.slice("lat_".length).split(".") as [string, string];
const reencoded = (payload: unknown) => {
  const forged = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `lat_${forged}.${signature}`;
};
/** A payload of any shape, correctly signed: tests the checks behind the signature. */
const signedWith = (payload: unknown, key: Buffer) => {
  const text = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `lat_${text}.${createHmac("sha256", key).update(text).digest("base64url")}`;
};

describe("decodeAccessToken", () => {
  const at = (iso: string) => new Date(iso);
  const cases: { name: string; token: string; now: Date; expected: unknown }[] = [
    { name: "a fresh token gives back its claims", token, now: at("2026-11-21T10:00:01Z"), expected: { ok: true, claims } },
    { name: "one second before expiry it still works", token, now: at("2026-11-21T10:14:59Z"), expected: { ok: true, claims } },
    { name: "at its expiry instant it is expired", token, now: at("2026-11-21T10:15:00Z"), expected: { ok: false, reason: "EXPIRED" } },
    {
      name: "a token of odd milliseconds works 1 ms before its expiry",
      token: encodeAccessToken(subSecond, secret),
      now: at("2026-11-21T10:00:01.899Z"),
      expected: { ok: true, claims: subSecond },
    },
    {
      name: "a token of odd milliseconds is expired at its exact expiry instant",
      token: encodeAccessToken(subSecond, secret),
      now: at("2026-11-21T10:00:01.900Z"),
      expected: { ok: false, reason: "EXPIRED" },
    },
    {
      name: "a v1 token (whole seconds) minted before still verifies",
      token: signedWith({ v: 1, t: tenantId, k: keyId, s: "r", a: null, iat: 1795255200, exp: 1795256100 }, secret),
      now: at("2026-11-21T10:14:59Z"),
      expected: { ok: true, claims: { ...claims, accountIds: null } },
    },
    {
      name: "a token signed with another secret is refused",
      token: encodeAccessToken(claims, otherSecret),
      now: issuedAt,
      expected: { ok: false, reason: "BAD_SIGNATURE" },
    },
    {
      name: "a payload changed after signing is refused",
      token: reencoded({ ...JSON.parse(Buffer.from(body, "base64url").toString()), s: "rw" }),
      now: issuedAt,
      expected: { ok: false, reason: "BAD_SIGNATURE" },
    },
    {
      name: "a truncated signature is refused",
      token: token.slice(0, -2),
      now: issuedAt,
      expected: { ok: false, reason: "BAD_SIGNATURE" },
    },
    { name: "no signature part is malformed", token: `lat_${body}`, now: issuedAt, expected: { ok: false, reason: "MALFORMED" } },
    { name: "three parts are malformed", token: `${token}.x`, now: issuedAt, expected: { ok: false, reason: "MALFORMED" } },
    {
      name: "another prefix is malformed",
      token: token.replace("lat_", "lk_"),
      now: issuedAt,
      expected: { ok: false, reason: "MALFORMED" },
    },
    {
      name: "a correctly signed payload of the wrong shape is malformed",
      token: signedWith({ v: 1, t: "not-a-uuid", k: keyId, s: "r", a: null, iat: 1, exp: 9e9 }, secret),
      now: issuedAt,
      expected: { ok: false, reason: "MALFORMED" },
    },
    {
      name: "a correctly signed unknown version is malformed",
      token: signedWith({ v: 3, t: tenantId, k: keyId, s: "r", a: null, iat: 1, exp: 9e9 }, secret),
      now: issuedAt,
      expected: { ok: false, reason: "MALFORMED" },
    },
    {
      name: "a correctly signed unknown scope is malformed",
      token: signedWith({ v: 1, t: tenantId, k: keyId, s: "admin", a: null, iat: 1, exp: 9e9 }, secret),
      now: issuedAt,
      expected: { ok: false, reason: "MALFORMED" },
    },
    {
      name: "a bearer longer than the bound is malformed",
      token: `lat_${"a".repeat(20_000)}.b`,
      now: issuedAt,
      expected: { ok: false, reason: "MALFORMED" },
    },
  ];
  for (const c of cases) {
    it(`decodeAccessToken: ${c.name}`, () => {
      expect(decodeAccessToken(c.token, secret, c.now)).toEqual(c.expected);
    });
  }

  it("decodeAccessToken: a token for every account keeps accountIds null and READ_WRITE scope", () => {
    const all = encodeAccessToken({ ...claims, scope: "READ_WRITE", accountIds: null }, secret);
    expect(decodeAccessToken(all, secret, issuedAt)).toEqual({ ok: true, claims: { ...claims, scope: "READ_WRITE", accountIds: null } });
  });
});

describe("checkTokenRequest", () => {
  const limits = { accessTokenTtlMaxSeconds: 3600, accessTokenAccountsMax: 2 };
  const cases: { name: string; request: Parameters<typeof checkTokenRequest>[0]; expected: unknown }[] = [
    {
      name: "no ttl takes the default",
      request: { scope: "READ_ONLY" },
      expected: { ok: true, value: { ttlSeconds: 900, accountIds: null } },
    },
    {
      name: "the maximum ttl is allowed",
      request: { scope: "READ_ONLY", ttlSeconds: 3600 },
      expected: { ok: true, value: { ttlSeconds: 3600, accountIds: null } },
    },
    {
      name: "one second is allowed",
      request: { scope: "READ_ONLY", ttlSeconds: 1 },
      expected: { ok: true, value: { ttlSeconds: 1, accountIds: null } },
    },
    {
      name: "zero ttl is invalid",
      request: { scope: "READ_ONLY", ttlSeconds: 0 },
      expected: { ok: false, problem: expect.objectContaining({ code: "InvalidInput", field: "ttlSeconds", reason: "TTL_OUT_OF_RANGE" }) },
    },
    {
      name: "a negative ttl is invalid",
      request: { scope: "READ_ONLY", ttlSeconds: -5 },
      expected: { ok: false, problem: expect.objectContaining({ code: "InvalidInput", reason: "TTL_OUT_OF_RANGE" }) },
    },
    {
      name: "a ttl above the maximum exceeds the limit",
      request: { scope: "READ_ONLY", ttlSeconds: 3601 },
      expected: { ok: false, problem: expect.objectContaining({ code: "LimitExceeded", limit: "accessTokenTtlMaxSeconds", max: "3600" }) },
    },
    {
      name: "an empty account list is invalid",
      request: { scope: "READ_ONLY", accountIds: [] },
      expected: { ok: false, problem: expect.objectContaining({ code: "InvalidInput", field: "accountIds", reason: "EMPTY" }) },
    },
    {
      name: "repeated accounts count once",
      request: { scope: "READ_ONLY", accountIds: ["a", "b", "a"] },
      expected: { ok: true, value: { ttlSeconds: 900, accountIds: ["a", "b"] } },
    },
    {
      name: "more accounts than the limit exceed it",
      request: { scope: "READ_ONLY", accountIds: ["a", "b", "c"] },
      expected: { ok: false, problem: expect.objectContaining({ code: "LimitExceeded", limit: "accessTokenAccountsMax" }) },
    },
  ];
  for (const c of cases) {
    it(`checkTokenRequest: ${c.name}`, () => {
      expect(checkTokenRequest(c.request, limits, 900)).toEqual(c.expected);
    });
  }

  it("checkTokenRequest: the default ttl never exceeds a lower maximum", () => {
    expect(checkTokenRequest({ scope: "READ_ONLY" }, { ...limits, accessTokenTtlMaxSeconds: 60 }, 900)).toEqual({
      ok: true,
      value: { ttlSeconds: 60, accountIds: null },
    });
  });
});

describe("access checks", () => {
  const limited = accessOfToken(claims);
  const apiKey = accessOfApiKey(tenantId, keyId);
  const cases: { name: string; actual: unknown; expected: unknown }[] = [
    { name: "an API key may use any account", actual: mayUseAccount(apiKey, accountB), expected: true },
    { name: "a limited token may use its account", actual: mayUseAccount(limited, accountA), expected: true },
    { name: "a limited token may not use another", actual: mayUseAccount(limited, accountB), expected: false },
    {
      name: "the first account outside the token is named",
      actual: firstForbiddenAccount(limited, [accountA, accountB]),
      expected: accountB,
    },
    { name: "no account outside the token gives null", actual: firstForbiddenAccount(limited, [accountA, accountA]), expected: null },
    { name: "an API key has no forbidden account", actual: firstForbiddenAccount(apiKey, [accountB]), expected: null },
    {
      name: "a token's access carries its expiry and scope",
      actual: [limited.via, limited.scope, limited.expiresAt],
      expected: ["ACCESS_TOKEN", "READ_ONLY", claims.expiresAt],
    },
  ];
  for (const c of cases) {
    it(`access: ${c.name}`, () => {
      expect(c.actual).toEqual(c.expected);
    });
  }
});
