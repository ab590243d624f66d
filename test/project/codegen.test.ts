// The committed outputs of `npm run codegen` (codegen.ts) are what it generates now: the resolver
// types from schema.graphql, and the tests' typed documents from test/support/documents/*.graphql.
import { readFileSync } from "node:fs";
import { generate } from "@graphql-codegen/cli";
import { expect, it } from "vitest";
import { codegenConfig } from "../../codegen.js";

const root = new URL("../../", import.meta.url);
const checked = ["src/generated/graphql.ts", "test/generated/operations.ts"];

type Output = { filename: string; content: string };
let outputs: Promise<Output[]> | undefined;
/** Every output, generated once for the file's tests. */
const generated = (): Promise<Output[]> => (outputs ??= generate({ ...codegenConfig, cwd: root.pathname, silent: true }, false));

async function expectCommitted(target: string) {
  const output = (await generated()).find((o) => o.filename.endsWith(target));
  expect(output, target).toBeDefined();
  expect(readFileSync(new URL(target, root), "utf8"), `${target} is stale`).toBe(output!.content);
}

it("checks every output codegen.ts generates", () => {
  expect(Object.keys(codegenConfig.generates).sort()).toEqual(checked);
});

it("the generated resolver types match schema.graphql (run `npm run codegen` if not)", () => expectCommitted(checked[0]!));

it("the typed test documents match schema.graphql and test/support/documents (run `npm run codegen` if not)", () =>
  expectCommitted(checked[1]!));
