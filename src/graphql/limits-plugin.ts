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
    maxTokens: { n: limits.queryTokensMax },
    maxDirectives: { n: 10 },
    costLimit: { maxCost: limits.queryCostMax, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return { plugins, validationRules };
}

function intValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  return undefined;
}

export function pageSizePlugin(limits: Limits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const variables = request.variables ?? {};
          visit(document, {
            Argument(node) {
              if (node.name.value !== "first") return;
              const first = intValue(node.value, variables);
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
