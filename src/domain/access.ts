// Who may do what: an API key (everything in its tenant) or a short-lived access token minted by
// one (read-only or read-write, optionally limited to some accounts). Tokens are stateless:
// `lat_<payload>.<signature>`, the payload base64url JSON, the signature HMAC-SHA256 over it.
import { createHmac, timingSafeEqual } from "node:crypto";
import { fail, invalidInput, limitExceeded, ok, type Result } from "./problems.js";

export type Scope = "READ_ONLY" | "READ_WRITE";

export interface Access {
  tenantId: string;
  /** The API key itself, or the key that minted the token (revoking it ends its tokens). */
  keyId: string;
  via: "API_KEY" | "ACCESS_TOKEN";
  scope: Scope;
  /** Account ids the bearer may see and move; null: every account of the tenant. */
  accountIds: ReadonlySet<string> | null;
  /** When a token stops working; null for API keys. */
  expiresAt: Date | null;
}

export interface TokenClaims {
  tenantId: string;
  keyId: string;
  scope: Scope;
  accountIds: string[] | null;
  issuedAt: Date;
  expiresAt: Date;
}

export const accessTokenPrefix = "lat_";
/** Longer bearers are refused before any parsing (a token for the most accounts fits easily). */
export const bearerLengthMax = 16_384;

/**
 * v2 carries its instants in milliseconds (exact expiry: a 1 s token lives 1 s); v1, minted
 * before, in whole seconds. Both verify; only v2 is minted.
 */
interface Payload {
  v: 1 | 2;
  t: string;
  k: string;
  s: "r" | "rw";
  a: string[] | null;
  iat: number;
  exp: number;
}

const sign = (secret: Buffer, body: string) => createHmac("sha256", secret).update(body).digest();

export function encodeAccessToken(claims: TokenClaims, secret: Buffer): string {
  const payload: Payload = {
    v: 2,
    t: claims.tenantId,
    k: claims.keyId,
    s: claims.scope === "READ_ONLY" ? "r" : "rw",
    a: claims.accountIds,
    iat: claims.issuedAt.getTime(),
    exp: claims.expiresAt.getTime(),
  };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${accessTokenPrefix}${body}.${sign(secret, body).toString("base64url")}`;
}

const isUuid = (v: unknown): v is string =>
  typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v);

function isPayload(v: unknown): v is Payload {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    (p.v === 1 || p.v === 2) &&
    isUuid(p.t) &&
    isUuid(p.k) &&
    (p.s === "r" || p.s === "rw") &&
    (p.a === null || (Array.isArray(p.a) && p.a.every(isUuid))) &&
    Number.isSafeInteger(p.iat) &&
    Number.isSafeInteger(p.exp)
  );
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: "MALFORMED" | "BAD_SIGNATURE" | "EXPIRED" };

/** Checks form, signature (in constant time) and expiry; says nothing about the minting key. */
export function decodeAccessToken(token: string, secret: Buffer, now: Date): TokenCheck {
  if (!token.startsWith(accessTokenPrefix) || token.length > bearerLengthMax) return { ok: false, reason: "MALFORMED" };
  const [body, signature, ...rest] = token.slice(accessTokenPrefix.length).split(".");
  if (!body || !signature || rest.length > 0) return { ok: false, reason: "MALFORMED" };
  const expected = sign(secret, body);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "BAD_SIGNATURE" };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "MALFORMED" };
  }
  if (!isPayload(payload)) return { ok: false, reason: "MALFORMED" };
  const msPerUnit = payload.v === 1 ? 1000 : 1;
  const expiresAt = new Date(payload.exp * msPerUnit);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "EXPIRED" };
  return {
    ok: true,
    claims: {
      tenantId: payload.t,
      keyId: payload.k,
      scope: payload.s === "r" ? "READ_ONLY" : "READ_WRITE",
      accountIds: payload.a,
      issuedAt: new Date(payload.iat * msPerUnit),
      expiresAt,
    },
  };
}

export interface TokenRequest {
  scope: Scope;
  /** Accounts the token is limited to; null or absent: every account. */
  accountIds?: readonly string[] | null;
  ttlSeconds?: number | null;
}

export interface TokenLimits {
  accessTokenTtlMaxSeconds: number;
  accessTokenAccountsMax: number;
}

/** What a minted token may be: TTL within 1 s..the maximum, account list bounded and non-empty. */
export function checkTokenRequest(
  request: TokenRequest,
  limits: TokenLimits,
  ttlDefaultSeconds: number,
): Result<{ ttlSeconds: number; accountIds: string[] | null }> {
  const ttlSeconds = request.ttlSeconds ?? Math.min(ttlDefaultSeconds, limits.accessTokenTtlMaxSeconds);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    return fail(
      invalidInput("ttlSeconds", "TTL_OUT_OF_RANGE", `must be a whole number of seconds from 1 to ${limits.accessTokenTtlMaxSeconds}`),
    );
  }
  if (ttlSeconds > limits.accessTokenTtlMaxSeconds) {
    return fail(limitExceeded("accessTokenTtlMaxSeconds", limits.accessTokenTtlMaxSeconds, "ttlSeconds"));
  }
  if (request.accountIds === null || request.accountIds === undefined) return ok({ ttlSeconds, accountIds: null });
  const accountIds = [...new Set(request.accountIds)];
  if (accountIds.length === 0) return fail(invalidInput("accountIds", "EMPTY", "give at least one account, or omit accountIds for all"));
  if (accountIds.length > limits.accessTokenAccountsMax) {
    return fail(limitExceeded("accessTokenAccountsMax", limits.accessTokenAccountsMax, "accountIds"));
  }
  return ok({ ttlSeconds, accountIds });
}

export function accessOfToken(claims: TokenClaims): Access {
  return {
    tenantId: claims.tenantId,
    keyId: claims.keyId,
    via: "ACCESS_TOKEN",
    scope: claims.scope,
    accountIds: claims.accountIds && new Set(claims.accountIds),
    expiresAt: claims.expiresAt,
  };
}

export const accessOfApiKey = (tenantId: string, keyId: string): Access => ({
  tenantId,
  keyId,
  via: "API_KEY",
  scope: "READ_WRITE",
  accountIds: null,
  expiresAt: null,
});

/** Whether the bearer may see or move this account. */
export const mayUseAccount = (access: Access, accountId: string): boolean => access.accountIds === null || access.accountIds.has(accountId);

/** The first account the bearer may not use, or null when it may use them all. */
export function firstForbiddenAccount(access: Access, accountIds: Iterable<string>): string | null {
  if (access.accountIds === null) return null;
  for (const id of accountIds) if (!access.accountIds.has(id)) return id;
  return null;
}
