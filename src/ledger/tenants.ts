// Tenants and their API keys. A key is shown once when made; only its sha256 is stored.
import { createHash, randomBytes } from "node:crypto";
import type { Database } from "../db/client.js";
import type { ApiKey, Tenant } from "./records.js";

export const apiKeyPrefix = "lk_";

export const hashApiKey = (key: string): string => createHash("sha256").update(key).digest("hex");

export async function createTenant(db: Database, name: string): Promise<Tenant> {
  return db.prisma.tenant.create({ data: { name } });
}

export async function createApiKey(db: Database, tenantId: string, name: string): Promise<{ key: string; apiKey: ApiKey }> {
  const key = apiKeyPrefix + randomBytes(32).toString("base64url");
  const apiKey = await db.prisma.apiKey.create({
    data: { tenantId, name, prefix: key.slice(0, 11), keyHash: hashApiKey(key) },
  });
  return { key, apiKey };
}

/** Revokes by key id or by the key's shown prefix; returns how many keys it revoked. */
export async function revokeApiKey(db: Database, idOrPrefix: string): Promise<number> {
  const isUuid = /^[0-9a-f-]{36}$/.test(idOrPrefix);
  const { count } = await db.prisma.apiKey.updateMany({
    where: { revokedAt: null, ...(isUuid ? { id: idOrPrefix } : { prefix: idOrPrefix }) },
    data: { revokedAt: new Date() },
  });
  return count;
}

/** On a database with no tenant yet, makes a demo tenant and returns its first key. */
export async function ensureDemoTenant(db: Database): Promise<string | null> {
  if ((await db.prisma.tenant.count()) > 0) return null;
  const tenant = await createTenant(db, "demo");
  const { key } = await createApiKey(db, tenant.id, "demo key");
  return key;
}
