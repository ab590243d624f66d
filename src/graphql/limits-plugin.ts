// Operation limits. Depth, aliases, tokens and cost are GraphQL Armor's validation rules; the
// page-size check needs the variables, so it runs once the operation is resolved, still
// before any resolver: a request over a limit does no work.
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, Kind, visit, type ValueNode } from "graphql";
import type { Limits } from "../domain/limits.js";

export function armorProtection(limits: Limits) {
  const { plugins, validationRules } = new ApolloArmor({
    maxDepth: { n: limits.queryDepthMax, ignoreIntrospection: true },
    maxAliases: { n: limits.queryAliasesMax },
    // Tokens are limited by graphql-js's own parser (parseOptions.maxTokens in apollo.ts), which
    // reports syntax errors as 400s; Armor's token plugin turned them into 500s.
    maxTokens: { enabled: false },
    maxDirectives: { n: 10 },
    costLimit: { maxCost: limits.queryCostMax, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return { plugins, validationRules };
}

function intValue(node: ValueNode, variables: Record<string, unknown>, defaults: Map<string, ValueNode>): unknown {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind !== Kind.VARIABLE) return undefined;
  const name = node.name.value;
  if (name in variables) return variables[name];
  const fallback = defaults.get(name);
  return fallback ? intValue(fallback, {}, new Map()) : undefined;
}

export function pageSizePlugin(limits: Limits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const variables = request.variables ?? {};
          const defaults = new Map<string, ValueNode>();
          visit(document, {
            VariableDefinition(node) {
              if (node.defaultValue) defaults.set(node.variable.name.value, node.defaultValue);
            },
          });
          visit(document, {
            Argument(node) {
              if (node.name.value !== "first") return;
              const first = intValue(node.value, variables, defaults);
              if (typeof first === "number" && first > limits.pageSizeMax) {
                throw new GraphQLError(`first (${first}) exceeds pageSizeMax (${limits.pageSizeMax})`, {
                  extensions: { code: "LIMIT_EXCEEDED", limit: "pageSizeMax", max: limits.pageSizeMax, http: { status: 400 } },
                });
              }
            },
          });
        },
      };
    },
  };
}
