// The embedded PostgreSQL where its OS user cannot reach a folder (#12 defect 10). As root the
// server runs as the user "postgres": a data folder inside a mode-700 folder is out of its reach.
// Not as root, the same folder is ours and the server just starts there.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedPostgresError, freePort, startEmbeddedPostgres } from "../../src/db/embedded.js";
import { projectRoot } from "../support/service-process.js";

const asRoot = os.userInfo().uid === 0;
const folders: string[] = [];

/** A fresh folder only its owner can enter (mkdtemp makes it mode 700). */
async function privateFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "ledger-private-"));
  folders.push(folder);
  return folder;
}

afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe("the embedded PostgreSQL and folders its user cannot reach", () => {
  it("refuses a data folder the server's user cannot enter with one message naming the folder and the fix (not as root: starts there)", async () => {
    const folder = await privateFolder();
    const dataDir = path.join(folder, "postgres");
    const starting = startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
    if (asRoot) {
      const error = await starting.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EmbeddedPostgresError);
      expect((error as Error).message).toContain(`cannot enter ${folder} (mode 700)`);
      expect((error as Error).message).toMatch(/chmod o\+x .*EMBEDDED_PG_DATA_DIR.*DATABASE_URL/);
      expect((error as Error).message.split("\n")).toHaveLength(1);
      expect(existsSync(dataDir)).toBe(false);
    } else {
      const server = await starting;
      await server.stop();
    }
  });

  it("npm test with its temp folder out of the server's reach says why its PostgreSQL could not start (not as root: runs)", async () => {
    const tmp = await privateFolder();
    const run = promisify(execFile)("npx", ["vitest", "run", "test/ops/config.test.ts"], {
      cwd: projectRoot,
      env: { ...process.env, TMPDIR: tmp, TEST_DATABASE_URL: "" },
      timeout: 120_000,
    });
    const result = await run.then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: e.stdout + e.stderr }),
    );
    if (asRoot) {
      expect(result.code).not.toBe(0);
      expect(result.output).toContain("the tests' throwaway PostgreSQL could not start");
      expect(result.output).toContain(`cannot enter ${tmp}`);
    } else {
      expect(result.code).toBe(0);
    }
  });
});
