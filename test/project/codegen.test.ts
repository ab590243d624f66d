import { readFileSync } from "node:fs";
import { generate } from "@graphql-codegen/cli";
import { expect, it } from "vitest";
import { codegenConfig } from "../../codegen.js";

it("the generated resolver types match schema.graphql (run `npm run codegen` if not)", async () => {
  const outputs = await generate({ ...codegenConfig, cwd: new URL("../..", import.meta.url).pathname, silent: true }, false);
  const generated = outputs.find((o: { filename: string }) => o.filename.endsWith("src/generated/graphql.ts"));
  expect(generated).toBeDefined();
  const committed = readFileSync(new URL("../../src/generated/graphql.ts", import.meta.url), "utf8");
  expect(committed).toBe(generated!.content);
});
