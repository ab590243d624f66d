// `npm run ledger -- <command>`: tenants and API keys. Uses DATABASE_URL, or the embedded
// database `npm start` uses (stop the service first: one embedded server per data folder).
import { loadConfig } from "./config.js";
import { connectDatabase } from "./db/client.js";
import { databaseTarget } from "./db/database-url.js";
import { applyMigrations } from "./db/migrate.js";
import { createApiKey, createTenant, revokeApiKey } from "./ledger/tenants.js";

// The command's answer (it may hold a key just made, which must never reach a log) goes to
// stdout as plain text; mistakes go to stderr.
const say = (text: string) => void process.stdout.write(`${text}\n`);
const complain = (text: string) => void process.stderr.write(`${text}\n`);

const usage = `usage: npm run ledger -- <command>
  tenant:create <name>            make a tenant and its first API key
  key:create <tenantId> [name]    make another API key for a tenant
  key:revoke <keyId|keyPrefix>    revoke a key (takes effect within AUTH_CACHE_MS)
  tenant:list                     list tenants with their keys (prefixes only)`;

const [command, ...args] = process.argv.slice(2);
if (!command || command === "help" || command === "--help") {
  say(usage);
  process.exit(command ? 0 : 1);
}

const config = loadConfig();
const target = await databaseTarget(config);
await applyMigrations(target.url);
const db = connectDatabase(target.url, 2);

try {
  process.exitCode = await run(command, args);
} finally {
  await db.close();
  await target.stop();
}

async function run(name: string, rest: string[]): Promise<number> {
  switch (name) {
    case "tenant:create": {
      if (!rest[0]) break;
      const tenant = await createTenant(db, rest[0]);
      const { key, apiKey } = await createApiKey(db, tenant.id, "first key");
      say(`tenant ${tenant.id} (${tenant.name})\nAPI key ${apiKey.id}: ${key}\n(the key is shown once)`);
      return 0;
    }
    case "key:create": {
      if (!rest[0]) break;
      const tenant = await db.prisma.tenant.findUnique({ where: { id: rest[0] } }).catch(() => null);
      if (!tenant) {
        complain(`no tenant ${rest[0]}`);
        return 1;
      }
      const { key, apiKey } = await createApiKey(db, tenant.id, rest[1] ?? "key");
      say(`API key ${apiKey.id}: ${key}\n(the key is shown once)`);
      return 0;
    }
    case "key:revoke": {
      if (!rest[0]) break;
      const count = await revokeApiKey(db, rest[0]);
      say(count ? `revoked ${count} key(s)` : `no active key ${rest[0]}`);
      return count ? 0 : 1;
    }
    case "tenant:list": {
      const tenants = await db.prisma.tenant.findMany({ include: { apiKeys: true }, orderBy: { createdAt: "asc" } });
      for (const t of tenants) {
        say(`${t.id}  ${t.name}`);
        for (const k of t.apiKeys) say(`    key ${k.id}  ${k.prefix}…  ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : "active"}`);
      }
      return 0;
    }
  }
  complain(usage);
  return 1;
}
