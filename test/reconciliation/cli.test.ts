// `npm run ledger -- statement:import`: a CSV file becomes a statement, in parts, idempotently,
// as a real child process against the tests' PostgreSQL.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { createAccount, key } from "../support/ledger-client.js";
import { projectRoot } from "../support/service-process.js";
import { useTestService } from "../support/service.js";

const service = useTestService();
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: inject("databaseUrl"), LOG_LEVEL: "warn", ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const hour = 3600_000;

/** statement:import of `file` into the account for the period [-4 h, -1 h), with these balances. */
const importArgs = (file: string, tenantId: string, accountCode: string, closing: string) => [
  "statement:import",
  file,
  ...["--tenant", tenantId, "--account", accountCode, "--source", "bank"],
  ...["--period-start", at(-4), "--period-end", at(-1), "--opening", "0", "--closing", closing],
];
const at = (offsetHours: number) => new Date(Date.now() + offsetHours * hour).toISOString();

describe("statement:import", () => {
  it("imports a CSV file in parts, and the same command again changes nothing", async () => {
    const tenant = await service.newTenant("csv import");
    const account = await createAccount(tenant, { code: key("psp:bank"), normalSide: "DEBIT" });
    const dir = mkdtempSync(path.join(os.tmpdir(), "statement-"));
    const file = path.join(dir, "statement.csv");
    writeFileSync(
      file,
      [
        "external_id,external_ref,amount,direction,currency,occurred_at,description",
        `txn_1,ch_1,1050,DEBIT,USD,${at(-3)},"card payment, order 1"`,
        `txn_2,,200,CREDIT,USD,${at(-2.5)},refund`,
        `txn_3,ch_3,99,DEBIT,USD,${at(-2)},`,
      ].join("\n"),
    );
    const args = importArgs(file, tenant.id, account.code, "949");
    const first = await cli(args, { LEDGER_STATEMENT_LINES_PER_CALL_MAX: "2" });
    expect(first.stderr).toBe("");
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(/^statement stmt_[0-9a-f-]{36}: 3 lines\n$/);
    const again = await cli(args, { LEDGER_STATEMENT_LINES_PER_CALL_MAX: "2" });
    expect(again.stdout).toContain("3 lines (imported before: nothing changed)");
    const id = /stmt_([0-9a-f-]{36})/.exec(first.stdout)![1];
    const { rows } = await service.db.pool.query(
      "SELECT line_no, external_id, external_ref, amount::text, direction, description FROM statement_lines WHERE statement_id = $1 ORDER BY line_no",
      [id],
    );
    expect(rows).toEqual([
      { line_no: 1, external_id: "txn_1", external_ref: "ch_1", amount: "1050", direction: "DEBIT", description: "card payment, order 1" },
      { line_no: 2, external_id: "txn_2", external_ref: null, amount: "200", direction: "CREDIT", description: "refund" },
      { line_no: 3, external_id: "txn_3", external_ref: "ch_3", amount: "99", direction: "DEBIT", description: "" },
    ]);
  });

  it.each([
    ["a row whose direction is neither DEBIT nor CREDIT", `txn_1,ch_1,1050,IN,USD,${at(-3)},x`, /row 2\.direction/],
    ["an amount with a fraction", `txn_1,ch_1,10.50,DEBIT,USD,${at(-3)},x`, /lines\[0\]\.amount/],
    ["an instant without an offset", "txn_1,ch_1,1050,DEBIT,USD,2026-01-01T10:00:00,x", /row 2\.occurred_at/],
  ])("refuses %s, naming where, and imports nothing", async (_, row, where) => {
    const tenant = await service.newTenant("csv refused");
    const account = await createAccount(tenant, { normalSide: "DEBIT" });
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "statement-")), "bad.csv");
    writeFileSync(file, `external_id,external_ref,amount,direction,currency,occurred_at,description\n${row}\n`);
    const result = await cli(importArgs(file, tenant.id, account.code, "0"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(where);
    const { rows } = await service.db.pool.query("SELECT count(*)::int AS n FROM statements WHERE tenant_id = $1", [tenant.id]);
    expect(rows[0].n).toBe(0);
  });
});
