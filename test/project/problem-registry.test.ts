// The problem registry (problemCodes in src/domain/problems.ts) against every other place that
// names problem codes: the schema, codegen's mappers, the messages and the write engine's SQL.
import { readFileSync } from "node:fs";
import { buildSchema, isObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { codegenConfig } from "../../codegen.js";
import { problemCodes, withMessage } from "../../src/domain/problems.js";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const registry = [...problemCodes].sort();

describe("the problem registry", () => {
  it("lists exactly the schema's types that implement Problem, and each is a member of a result union", () => {
    const schema = buildSchema(read("schema.graphql"));
    const problemTypes = Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === "Problem"))
      .map((type) => type.name);
    expect(problemTypes.sort()).toEqual(registry);
    const unionMembers = new Set(
      Object.values(schema.getTypeMap()).flatMap((type) =>
        "getTypes" in type && type.astNode?.kind === "UnionTypeDefinition" ? type.getTypes().map((t) => t.name) : [],
      ),
    );
    expect(registry.filter((code) => !unionMembers.has(code))).toEqual([]);
  });

  it("maps every code to the Problem record in codegen", () => {
    const output = codegenConfig.generates["src/generated/graphql.ts"] as { config: { mappers: Record<string, string> } };
    const mapped = Object.entries(output.config.mappers)
      .filter(([, record]) => record.endsWith("#Problem"))
      .map(([name]) => name);
    expect(mapped.sort()).toEqual(registry);
  });

  it("knows every code the write engine reports", () => {
    const engineCodes = [...read("prisma/sql/engine.sql").matchAll(/'code',\s*'([A-Za-z]+)'/g)].map((m) => m[1]!);
    expect(engineCodes.length).toBeGreaterThan(10);
    expect([...new Set(engineCodes)].filter((code) => !registry.includes(code as never))).toEqual([]);
  });

  it("words every code when the problem comes without a message", () => {
    for (const code of problemCodes) {
      const { message } = withMessage({ code, accountId: "acct_x", holdId: "hold_x", transferId: "tr_x" });
      expect(message, code).not.toBe(code);
      expect(message.length, code).toBeGreaterThan(5);
    }
  });
});
