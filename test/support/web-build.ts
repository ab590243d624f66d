// Builds GraphiQL and the dashboard (dist/web) when their sources changed, in a child process
// (Vite inside vitest's own Vite is asking for trouble). Run once per test run by global-setup.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const root = path.resolve(import.meta.dirname, "../..");

export async function buildWebApps(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), path.join(root, "scripts/build-web.ts")], {
    cwd: root,
    env: { ...process.env, NODE_ENV: "production" },
    maxBuffer: 16 * 1024 * 1024,
  });
}
