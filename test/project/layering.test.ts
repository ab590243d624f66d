// The layers of src/ import downwards only: domain (pure rules) <- db <- ledger <- live, webhooks,
// reconciliation (side by side) <- graphql <- http. A change that makes a lower layer reach up (the ledger into GraphQL, the live path
// into the API that sits on it) fails here, naming the file and the import.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = new URL("../../src/", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every module specifier a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gms)].map((m) => m[1]!);
}

/** The src/ folder an import lands in ("" when it leaves src/ or is a package). */
function layerOf(file: string, specifier: string): string {
  if (!specifier.startsWith(".")) return "";
  const target = path.relative(srcDir, path.resolve(path.dirname(file), specifier));
  return target.startsWith("..") ? "" : target.split(path.sep)[0]!;
}

const rules: { layer: string; mayNotImport: string[]; packages?: RegExp }[] = [
  {
    layer: "domain",
    mayNotImport: ["db", "ledger", "live", "webhooks", "reconciliation", "graphql", "http", "ops", "generated"],
    packages: /^(pg|graphql|@prisma\/|@apollo\/|ws$|node:http)/,
  },
  { layer: "db", mayNotImport: ["ledger", "live", "webhooks", "reconciliation", "graphql", "http"] },
  { layer: "ledger", mayNotImport: ["live", "webhooks", "reconciliation", "graphql", "http"], packages: /^(graphql|@apollo\/)/ },
  { layer: "live", mayNotImport: ["graphql", "http", "webhooks", "reconciliation"], packages: /^(graphql|@apollo\/)/ },
  { layer: "webhooks", mayNotImport: ["graphql", "http", "live", "reconciliation"], packages: /^(graphql|@apollo\/)/ },
  { layer: "reconciliation", mayNotImport: ["graphql", "http", "live", "webhooks"], packages: /^(graphql|@apollo\/)/ },
];

describe("layering of src/", () => {
  for (const { layer, mayNotImport, packages } of rules) {
    it(`nothing in src/${layer} imports ${mayNotImport.map((l) => `src/${l}`).join(", ")}${packages ? " or the packages of the layers above" : ""}`, () => {
      const files = sourceFiles(path.join(srcDir, layer));
      expect(files.length).toBeGreaterThan(2);
      const upward = files.flatMap((file) =>
        importsOf(file)
          .filter((specifier) => mayNotImport.includes(layerOf(file, specifier)) || (packages?.test(specifier) ?? false))
          .map((specifier) => `${path.relative(srcDir, file)} imports ${specifier}`),
      );
      expect(upward).toEqual([]);
    });
  }

  it("finds imports the way the rules read them (a known upward import in src/http is seen)", () => {
    const server = path.join(srcDir, "http", "server.ts");
    expect(importsOf(server).map((s) => layerOf(server, s))).toContain("graphql");
  });
});
