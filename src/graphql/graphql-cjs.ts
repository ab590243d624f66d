// graphql-js as Apollo, graphql-ws and graphql-tools load it: the CommonJS build. Under vitest
// an ESM `import "graphql"` can resolve to the .mjs build instead, and graphql-js refuses a
// schema "from another realm" (and `instanceof GraphQLError` fails across the two). Code that
// validates or executes against the shared schema takes graphql from here.
import { createRequire } from "node:module";

export const graphqlCjs = createRequire(import.meta.url)("graphql") as typeof import("graphql");
