// npm run build:web (and before npm start): builds the browser apps the service serves into
// dist/web/<app> with Vite. An app whose sources and package-lock.json are unchanged since its
// last build is skipped, so starting the service stays quick.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const webApps = [
  { name: "graphiql", source: "graphiql" },
  { name: "dashboard", source: "examples/dashboard" },
] as const;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "node_modules" ? [] : filesUnder(full);
      return [full];
    }),
  );
  return files.flat().sort();
}

async function sourceHash(sourceDir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of [...(await filesUnder(sourceDir)), path.join(root, "package-lock.json")]) {
    hash
      .update(path.relative(root, file))
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  }
  return hash.digest("hex");
}

/** Builds every app that changed; returns the names of those it built. */
export async function buildWebApps(options: { force?: boolean; quiet?: boolean } = {}): Promise<string[]> {
  // Production React and JSX whatever the caller's NODE_ENV (vitest sets "test": a build made
  // with it calls jsxDEV, which production React lacks).
  process.env.NODE_ENV = "production";
  // Vite is a dev dependency: an install without it serves what was built before (or 503s).
  const vite = await import("vite").catch(() => null);
  if (!vite) {
    console.warn("vite is not installed (npm install --omit=dev?): web apps not rebuilt");
    return [];
  }
  const { build } = vite;
  const built: string[] = [];
  for (const app of webApps) {
    const sourceDir = path.join(root, app.source);
    const outDir = path.join(root, "dist/web", app.name);
    const stampFile = path.join(outDir, ".source-hash");
    const hash = await sourceHash(sourceDir);
    const stamp = existsSync(stampFile) ? (await readFile(stampFile, "utf8")).trim() : null;
    if (!options.force && stamp === hash && existsSync(path.join(outDir, "index.html"))) continue;
    if (!options.quiet) console.log(`building ${app.name} (${app.source} -> dist/web/${app.name})`);
    await build({ configFile: path.join(sourceDir, "vite.config.ts"), mode: "production", logLevel: options.quiet ? "error" : "warn" });
    await writeFile(stampFile, `${hash}\n`);
    built.push(app.name);
  }
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes("--force");
  const started = Date.now();
  const built = await buildWebApps({ force });
  console.log(
    built.length > 0 ? `built ${built.join(", ")} in ${((Date.now() - started) / 1000).toFixed(1)} s` : "web apps are up to date",
  );
}
