// Bearer authentication (API keys and access tokens) and minting of access tokens.
import type { Database } from "../db/client.js";
import {
  accessOfApiKey,
  accessOfToken,
  accessTokenPrefix,
  bearerLengthMax,
  checkTokenRequest,
  decodeAccessToken,
  encodeAccessToken,
  type Access,
  type TokenLimits,
  type TokenRequest,
} from "../domain/access.js";
import { fromGlobalId } from "../domain/ids.js";
import { accountNotFound, fail, ok, type Result } from "../domain/problems.js";
import { authorizeWrite } from "./authorization.js";
import { readAccounts } from "./reads.js";
import { serviceSecret } from "./service-secrets.js";
import { apiKeyPrefix, hashApiKey } from "./tenants.js";

const secretName = "access_token_signing";
const secretBytes = 32;
/** TTL of a token minted without ttlSeconds (bounded by accessTokenTtlMaxSeconds). */
export const accessTokenTtlDefaultSeconds = 900;

/**
 * The key that signs access tokens: LEDGER_ACCESS_TOKEN_SECRET when set, else one made on first
 * start and kept in the database so every instance on it accepts the others' tokens.
 */
export async function loadTokenSecret(db: Database, configured: string | null): Promise<Buffer> {
  if (configured) {
    if (Buffer.byteLength(configured) < secretBytes) throw new Error(`LEDGER_ACCESS_TOKEN_SECRET must be at least ${secretBytes} bytes`);
    return Buffer.from(configured);
  }
  return serviceSecret(db, secretName, secretBytes);
}

/** The credential in "Bearer <API key or access token>" (an HTTP header or connection_init's field). */
export function bearerOf(header: unknown): string | null {
  const match = typeof header === "string" ? /^Bearer (\S+)$/.exec(header) : null;
  return match ? match[1]! : null;
}

export type Authenticate = (bearer: string) => Promise<Access | null>;

/**
 * Resolves a bearer (API key or access token) to what it may do; null when unknown, revoked,
 * expired or forged. Key lookups are cached for `cacheMs`, so a revocation (which also ends
 * the key's tokens) takes effect within that time on every instance.
 */
export function createAuthenticator(db: Database, secret: Buffer, cacheMs = 2000): Authenticate {
  type KeyRow = { id: string; tenantId: string } | null;
  const cache = new Map<string, { row: KeyRow; until: number }>();

  async function activeKey(where: { keyHash: string } | { id: string }): Promise<KeyRow> {
    const cacheKey = "keyHash" in where ? `h:${where.keyHash}` : `i:${where.id}`;
    const now = Date.now();
    const cached = cache.get(cacheKey);
    if (cached && cached.until > now) return cached.row;
    const found = await db.prisma.apiKey.findUnique({ where, select: { id: true, tenantId: true, revokedAt: true } });
    const row = found && !found.revokedAt ? { id: found.id, tenantId: found.tenantId } : null;
    if (cache.size > 10_000) cache.clear(); // bounded: a flood of bad keys cannot grow memory
    cache.set(cacheKey, { row, until: now + cacheMs });
    return row;
  }

  return async function authenticate(bearer) {
    if (bearer.length > bearerLengthMax) return null;
    if (bearer.startsWith(apiKeyPrefix)) {
      const key = await activeKey({ keyHash: hashApiKey(bearer) });
      return key && accessOfApiKey(key.tenantId, key.id);
    }
    if (!bearer.startsWith(accessTokenPrefix)) return null;
    const checked = decodeAccessToken(bearer, secret, new Date());
    if (!checked.ok) return null;
    const key = await activeKey({ id: checked.claims.keyId });
    if (!key || key.tenantId !== checked.claims.tenantId) return null;
    return accessOfToken(checked.claims);
  };
}

export interface MintedToken {
  token: string;
  scope: Access["scope"];
  accountIds: string[] | null;
  expiresAt: Date;
}

/** Mints a token for an API key holder (never for a token); every account named (global ids) must be the tenant's. */
export async function mintAccessToken(
  db: Database,
  access: Access,
  request: TokenRequest,
  limits: TokenLimits,
  secret: Buffer,
): Promise<Result<MintedToken>> {
  await authorizeWrite(db, access, "createAccessToken", { tenantWide: true });
  const checked = checkTokenRequest(request, limits, accessTokenTtlDefaultSeconds);
  if (!checked.ok) return checked;
  const { ttlSeconds } = checked.value;
  let accountIds: string[] | null = null;
  if (checked.value.accountIds) {
    const globalIds = checked.value.accountIds;
    const rawIds = globalIds.map((id) => fromGlobalId("Account", id));
    const found = await readAccounts(
      db,
      access.tenantId,
      rawIds.filter((id) => id !== null),
    );
    const known = new Set(found.map((a) => a.id));
    const missing = rawIds.findIndex((id) => id === null || !known.has(id));
    if (missing >= 0) return fail(accountNotFound(globalIds[missing]!));
    accountIds = rawIds as string[];
  }
  // The token carries milliseconds: it lives exactly ttlSeconds.
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + ttlSeconds * 1000);
  const token = encodeAccessToken(
    { tenantId: access.tenantId, keyId: access.keyId, scope: request.scope, accountIds, issuedAt, expiresAt },
    secret,
  );
  return ok({ token, scope: request.scope, accountIds, expiresAt });
}
