// Tenants and their API keys. A key is shown once when made; only its sha256 is stored.
import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { ApiKey, Tenant } from "./records.js";

export const apiKeyPrefix = "lk_";

export const hashApiKey = (key: string): string => createHash("sha256").update(key).digest("hex");

export async function createTenant(prisma: PrismaClient, name: string): Promise<Tenant> {
  return prisma.tenant.create({ data: { name } });
}

export async function createApiKey(
  prisma: PrismaClient,
  tenantId: string,
  name: string,
): Promise<{ key: string; apiKey: ApiKey }> {
  const key = apiKeyPrefix + randomBytes(32).toString("base64url");
  const apiKey = await prisma.apiKey.create({
    data: { tenantId, name, prefix: key.slice(0, 11), keyHash: hashApiKey(key) },
  });
  return { key, apiKey };
}

/** Revokes by key id or by the key's shown prefix; returns how many keys it revoked. */
export async function revokeApiKey(prisma: PrismaClient, idOrPrefix: string): Promise<number> {
  const isUuid = /^[0-9a-f-]{36}$/.test(idOrPrefix);
  const { count } = await prisma.apiKey.updateMany({
    where: { revokedAt: null, ...(isUuid ? { id: idOrPrefix } : { prefix: idOrPrefix }) },
    data: { revokedAt: new Date() },
  });
  return count;
}

/** On a database with no tenant yet, makes a demo tenant and returns its first key. */
export async function ensureDemoTenant(prisma: PrismaClient): Promise<string | null> {
  if ((await prisma.tenant.count()) > 0) return null;
  const tenant = await createTenant(prisma, "demo");
  const { key } = await createApiKey(prisma, tenant.id, "demo key");
  return key;
}
