// The operations the service's GraphiQL opens with (graphiql/src/examples.ts) must stay valid
// against the contract: each document validates against schema.graphql, names exactly one
// operation, starts with comments saying what to fill in, and its example variables coerce.
import { readFileSync } from "node:fs";
import { buildSchema, getOperationAST, getVariableValues, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { exampleOperations } from "../../graphiql/src/examples.js";

const schema = buildSchema(readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8"));
const examples = exampleOperations(new Date("2026-11-21T18:00:00Z")).map((example) => {
  const document = parse(example.query);
  const operation = getOperationAST(document);
  return { ...example, document, operation, name: operation?.name?.value ?? "(unnamed)" };
});

describe("GraphiQL example operations", () => {
  it("cover an account with its entries, an as-of balance, balanceChanged and a transfer", () => {
    expect(examples.map((example) => `${example.operation?.operation} ${example.name}`)).toEqual([
      "query AccountByCode",
      "query BalanceAsOf",
      "subscription BalanceChanged",
      "mutation PostTransfer",
    ]);
  });

  it.each(examples.map((example) => [example.name, example] as const))("%s is valid against schema.graphql", (_name, example) => {
    expect(validate(schema, example.document).map((error) => error.message)).toEqual([]);
  });

  it.each(examples.map((example) => [example.name, example] as const))("%s accepts its example variables", (_name, example) => {
    const coerced = getVariableValues(schema, example.operation?.variableDefinitions ?? [], example.variables);
    expect(coerced.errors?.map((error) => error.message) ?? []).toEqual([]);
  });

  it.each(examples.map((example) => [example.name, example] as const))(
    "%s starts with comments that say what to fill in",
    (_name, example) => {
      const comments = example.query.split("\n").filter((line) => line.startsWith("#"));
      expect(example.query.startsWith("# ")).toBe(true);
      expect(comments.join("\n")).toMatch(/fill in/i);
    },
  );

  it("the as-of example asks for an instant before the given now", () => {
    const asOf = examples.find((example) => example.name === "BalanceAsOf")?.variables.asOf;
    expect(asOf).toBe("2026-11-21T17:00:00Z");
  });
});
