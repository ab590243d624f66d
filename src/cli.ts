// `npm run ledger -- <command>`: tenants and API keys. Uses DATABASE_URL, or the embedded
// database `npm start` uses (stop the service first: one embedded server per data folder).
import { loadConfig } from "./config.js";
import { connectDatabase } from "./db/client.js";
import { databaseTarget } from "./db/database-url.js";
import { applyMigrations } from "./db/migrate.js";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { accessOfApiKey } from "./domain/access.js";
import { toGlobalId } from "./domain/ids.js";
import { parseInstant } from "./domain/instant.js";
import { readAccountByCode } from "./ledger/reads.js";
import { createApiKey, createTenant, revokeApiKey } from "./ledger/tenants.js";
import { linesOfCsv } from "./reconciliation/csv.js";
import { statementGlobalId } from "./reconciliation/ids.js";
import { importStatementInParts } from "./reconciliation/statements.js";

// The command's answer (it may hold a key just made, which must never reach a log) goes to
// stdout as plain text; mistakes go to stderr.
const say = (text: string) => void process.stdout.write(`${text}\n`);
const complain = (text: string) => void process.stderr.write(`${text}\n`);

const usage = `usage: npm run ledger -- <command>
  tenant:create <name>            make a tenant and its first API key
  key:create <tenantId> [name]    make another API key for a tenant
  key:revoke <keyId|keyPrefix>    revoke a key (takes effect within AUTH_CACHE_MS)
  tenant:list                     list tenants with their keys (prefixes only)
  statement:import <file.csv> --tenant <id> --account <code> --source <name>
      --period-start <instant> --period-end <instant> --opening <amount> --closing <amount> [--key <key>]
                                  import a bank or provider statement from a CSV file (columns: README,
                                  Reconciliation); the same command again changes nothing`;

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
    case "statement:import":
      return importStatementFile(rest);
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

async function importStatementFile(rest: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: Object.fromEntries(
      ["tenant", "account", "source", "period-start", "period-end", "opening", "closing", "key"].map((name) => [
        name,
        { type: "string" as const },
      ]),
    ),
  });
  const file = positionals[0];
  const missing = ["tenant", "account", "source", "period-start", "period-end", "opening", "closing"].filter((name) => !values[name]);
  if (!file || missing.length > 0) {
    complain(`statement:import needs a file and ${missing.map((name) => `--${name}`).join(", ") || "a file"}\n\n${usage}`);
    return 1;
  }
  const lines = linesOfCsv(await readFile(file, "utf8"));
  if (!lines.ok) {
    complain(`${file}: ${lines.problem.message}`);
    return 1;
  }
  const tenantId = String(values.tenant);
  const account = await readAccountByCode(db, tenantId, String(values.account)).catch(() => null);
  if (!account) {
    complain(`no account ${values.account} in tenant ${tenantId}`);
    return 1;
  }
  const [periodStart, periodEnd] = [parseInstant(String(values["period-start"])), parseInstant(String(values["period-end"]))];
  if (!periodStart || !periodEnd) {
    complain("--period-start and --period-end must be ISO 8601 instants with an offset");
    return 1;
  }
  const outcome = await importStatementInParts(
    db,
    // The operator's access: the CLI holds the database, so it acts with an API key's rights
    // (recorded as the all-zero key).
    accessOfApiKey(tenantId, "00000000-0000-0000-0000-000000000000"),
    {
      idempotencyKey: String(values.key ?? `csv:${account.code}:${periodStart.toISOString()}:${periodEnd.toISOString()}`),
      accountId: toGlobalId("Account", account.id),
      source: String(values.source),
      periodStart,
      periodEnd,
      openingBalance: String(values.opening),
      closingBalance: String(values.closing),
      lines: lines.value,
    },
    config.limits,
  );
  if (!outcome.ok) {
    complain(`not imported (${outcome.problem.code}): ${outcome.problem.message}`);
    return 1;
  }
  const { statement, replay } = outcome;
  say(`statement ${statementGlobalId(statement.id)}: ${statement.lineCount} lines${replay ? " (imported before: nothing changed)" : ""}`);
  return 0;
}
