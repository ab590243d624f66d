// Operation limits. Depth, aliases, tokens and cost are GraphQL Armor's validation rules; the
// page-size check needs the variables, so it runs once the operation is resolved, still
// before any resolver: a request over a limit does no work (operation-check.ts runs them).
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { costLimitRule, type CostLimitOptions } from "@escape.tech/graphql-armor-cost-limit";
import { GraphQLError, Kind, visit, type DocumentNode, type GraphQLSchema, type ValueNode } from "graphql";

import { limitRefusal } from "./errors.js";
import { graphqlCjs } from "./graphql-cjs.js";

const { validate } = graphqlCjs;
import type { Limits } from "../domain/limits.js";

export const costOptions = (limits: Limits): CostLimitOptions => ({ maxCost: limits.queryCostMax, ignoreIntrospection: true });

export function armorProtection(limits: Limits) {
  const { plugins, validationRules } = new ApolloArmor({
    maxDepth: { n: limits.queryDepthMax, ignoreIntrospection: true },
    maxAliases: { n: limits.queryAliasesMax },
    // Tokens are limited by graphql-js's own parser (parseOptions.maxTokens in apollo.ts), which
    // reports syntax errors as 400s; Armor's token plugin turned them into 500s.
    maxTokens: { enabled: false },
    maxDirectives: { n: 10 },
    costLimit: costOptions(limits),
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

/** The document with every `first: $variable` replaced by the variable's value. */
function withPageSizesInlined(document: DocumentNode, pageSizeOf: (node: ValueNode) => unknown): DocumentNode {
  return visit(document, {
    Argument(node) {
      if (node.name.value !== "first" || node.value.kind !== Kind.VARIABLE) return undefined;
      const value = pageSizeOf(node.value);
      return typeof value === "number" ? { ...node, value: { kind: Kind.INT, value: String(value) } } : undefined;
    },
  });
}

const pageSizesOf = new WeakMap<DocumentNode, boolean>();

/** Whether the document has any `first` argument. */
function hasPageSizes(document: DocumentNode): boolean {
  let known = pageSizesOf.get(document);
  if (known === undefined) {
    known = false;
    visit(document, {
      Argument(node) {
        if (node.name.value === "first") known = true;
      },
    });
    pageSizesOf.set(document, known);
  }
  return known;
}

/**
 * Checks that need the variables: `first` against pageSizeMax (as a literal, a variable or a
 * variable's default), and the query cost again with variable page sizes filled in (Armor's
 * cost rule only sees literals). Throws the GraphQLError to answer with.
 */
export function checkVariableLimits(
  limits: Limits,
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  costRule = costLimitRule(costOptions(limits)),
): void {
  // Most operations (every mutation) have no page size at all: nothing to check, and no walk of
  // the document on each request (the parsed document is the same object for the same query).
  if (!hasPageSizes(document)) return;
  const defaults = new Map<string, ValueNode>();
  let variablePageSize = false;
  visit(document, {
    VariableDefinition(node) {
      if (node.defaultValue) defaults.set(node.variable.name.value, node.defaultValue);
    },
  });
  visit(document, {
    Argument(node) {
      if (node.name.value !== "first") return;
      if (node.value.kind === Kind.VARIABLE) variablePageSize = true;
      const first = intValue(node.value, variables, defaults);
      if (typeof first === "number" && first > limits.pageSizeMax) {
        throw new GraphQLError(`first (${first}) exceeds pageSizeMax (${limits.pageSizeMax})`, {
          extensions: { code: "LIMIT_EXCEEDED", limit: "pageSizeMax", max: limits.pageSizeMax, http: { status: 400 } },
        });
      }
    },
  });
  if (!variablePageSize) return;
  const inlined = withPageSizesInlined(document, (node) => intValue(node, variables, defaults));
  // Armor's rule throws its rejection instead of reporting it; both mean over the limit.
  let costError: unknown;
  try {
    [costError] = validate(schema, inlined, [costRule]);
  } catch (error) {
    costError = error;
  }
  if (costError) {
    const message = (costError as Error).message;
    const refusal = limitRefusal(message) ?? {
      message,
      extensions: { code: "LIMIT_EXCEEDED", limit: "queryCostMax", max: limits.queryCostMax },
    };
    throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: 400 } } });
  }
}
