// The checks every GraphQL operation passes before anything runs, on both transports, in one
// order: parse (token limit), validate (depth, aliases, directives, cost: GraphQL Armor's rules),
// then, once the operation and its variables are known, page sizes and cost with variables
// (limits-plugin.ts) and the per-key mutation rate. Apollo (HTTP) gets the pieces: parseOptions,
// validationRules and operationCheckPlugin; the WebSocket transport calls checkOperation.
import type { ApolloServerPlugin } from "@apollo/server";
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import type { DocumentNode, GraphQLError as GraphQLErrorType, GraphQLSchema, OperationDefinitionNode, ValidationRule } from "graphql";
import type { Access } from "../domain/access.js";
import type { Limits } from "../domain/limits.js";
import { rateLimitedError, type RateLimiter } from "../ops/rate-limits.js";
import type { Context } from "./context.js";
import { graphqlCjs } from "./graphql-cjs.js";
import { armorProtection, checkVariableLimits, costOptions } from "./limits-plugin.js";
import { mutationCount, operationLabel, operationOf } from "./observe-plugin.js";

const { GraphQLError, parse, specifiedRules, validate, NoSchemaIntrospectionCustomRule } = graphqlCjs;

export interface OperationPolicy {
  parseOptions: { maxTokens: number };
  /** Armor's rules (Apollo adds graphql's specified rules itself). */
  validationRules: ValidationRule[];
  /** Armor's Apollo plugins, which go with its rules. */
  armorPlugins: ApolloServerPlugin<Context>[];
  /** The checks that need the resolved operation, its variables and the bearer; throws the error to answer with. */
  afterResolve(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode | undefined,
    variables: Record<string, unknown>,
    access: Access,
  ): Promise<void>;
}

export function operationPolicy(limits: Limits, mutationLimiter: RateLimiter | null): OperationPolicy {
  const armor = armorProtection(limits);
  const costRule = costLimitRule(costOptions(limits));
  return {
    parseOptions: { maxTokens: limits.queryTokensMax },
    validationRules: armor.validationRules,
    armorPlugins: armor.plugins as ApolloServerPlugin<Context>[],
    async afterResolve(schema, document, operation, variables, access) {
      checkVariableLimits(limits, schema, document, variables, costRule);
      const points = mutationCount(operation);
      if (points === 0 || !mutationLimiter) return;
      const refused = await mutationLimiter.consume(access.keyId, points);
      if (refused) throw rateLimitedError("mutations", mutationLimiter.perSecond, refused.retryAfterMs);
    },
  };
}

/** The HTTP half: afterResolve once Apollo has parsed, validated and resolved the operation. */
export function operationCheckPlugin(policy: OperationPolicy): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          await policy.afterResolve(schema, document, operation ?? undefined, request.variables ?? {}, contextValue.access);
        },
      };
    },
  };
}

export type OperationCheck =
  | { ok: true; document: DocumentNode; operation: OperationDefinitionNode | undefined; label: string }
  /** fallbackCode: the code for errors graphql-js raised without one (what Apollo would have said). */
  | { ok: false; errors: readonly GraphQLErrorType[]; label: string; fallbackCode: string };

/** The WebSocket half: every check, in the order Apollo runs them for HTTP. */
export async function checkOperation(
  policy: OperationPolicy,
  schema: GraphQLSchema,
  introspection: boolean,
  request: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  access: Access,
): Promise<OperationCheck> {
  let document: DocumentNode;
  try {
    document = parse(request.query, policy.parseOptions);
  } catch (error) {
    return {
      ok: false,
      errors: [error instanceof GraphQLError ? error : new GraphQLError(String(error))],
      label: "unknown",
      fallbackCode: "GRAPHQL_PARSE_FAILED",
    };
  }
  const operation = operationOf(document, request.operationName);
  const label = operationLabel(operation);
  const rules = [...specifiedRules, ...policy.validationRules, ...(introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const errors = validate(schema, document, rules);
  if (errors.length > 0) return { ok: false, errors, label, fallbackCode: "GRAPHQL_VALIDATION_FAILED" };
  try {
    await policy.afterResolve(schema, document, operation, request.variables ?? {}, access);
  } catch (error) {
    return { ok: false, errors: [withoutHttp(error as GraphQLErrorType)], label, fallbackCode: "GRAPHQL_VALIDATION_FAILED" };
  }
  return { ok: true, document, operation, label };
}

/** `extensions.http` (status, headers) is for Apollo's HTTP answer; a socket sends extensions as they are. */
function withoutHttp(error: GraphQLErrorType): GraphQLErrorType {
  if (!error.extensions?.http) return error;
  const { http: _, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { extensions });
}
