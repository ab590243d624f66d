// Generates the Prisma client (run by `postinstall`).
// Prisma's CLI downloads its native schema engine before `generate` unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file; `generate` never runs that engine
// (migrations go through @prisma/schema-engine-wasm, see src/db/migrate.ts), so any file will do.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL("../package.json", import.meta.url));
execFileSync(process.execPath, [fileURLToPath(new URL("../node_modules/prisma/build/index.js", import.meta.url)), "generate"], {
  cwd: root,
  env,
  stdio: "inherit",
});
