// Every GraphQL error a client gets has a stable extensions.code and an honest message. Applied
// to HTTP (Apollo's formatError) and WebSocket answers alike.
import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { databaseUnavailableMessage, isDatabaseUnavailable } from "../db/unavailable.js";
import { AccessDenied } from "../ledger/authorization.js";
import { log } from "../ops/log.js";

const logger = log.child({ component: "graphql" });

/** GraphQL Armor's and graphql-js's refusals of a too-large document, prefixed "Syntax Error:" though they are none. */
const limitRefusals: { pattern: RegExp; limit: string }[] = [
  { pattern: /^Syntax Error: (Query depth limit of (\d+) exceeded, found [\d.]+)\.?$/, limit: "queryDepthMax" },
  { pattern: /^Syntax Error: (Aliases limit of (\d+) exceeded, found [\d.]+)\.?$/, limit: "queryAliasesMax" },
  { pattern: /^Syntax Error: (Directives limit of (\d+) exceeded, found [\d.]+)\.?$/, limit: "queryDirectivesMax" },
  { pattern: /^(?:Syntax Error: )?(Query Cost limit of (\d+) exceeded, found [\d.]+)\.?$/, limit: "queryCostMax" },
  { pattern: /^Syntax Error: (Document contains more tha[nt] (\d+) tokens)\. Parsing aborted\.?$/, limit: "queryTokensMax" },
];

/** A query-limit refusal as LIMIT_EXCEEDED naming its setting; null for any other message. */
export function limitRefusal(message: string): { message: string; extensions: Record<string, unknown> } | null {
  for (const { pattern, limit } of limitRefusals) {
    const match = pattern.exec(message);
    if (match) return { message: `${match[1]} (${limit})`, extensions: { code: "LIMIT_EXCEEDED", limit, max: Number(match[2]) } };
  }
  return null;
}

export const databaseUnavailableExtensions = { code: "DATABASE_UNAVAILABLE", retryable: true } as const;

/**
 * Limit refusals get their code; a refusal by the ledger's authorization is FORBIDDEN; an unreachable database is DATABASE_UNAVAILABLE (no driver or
 * Prisma text); bugs are logged in full, and in production their details stay on the server.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, production: boolean): GraphQLFormattedError {
  const refusal = limitRefusal(formatted.message);
  if (refusal) return { ...withoutStacktrace(formatted), ...refusal };
  const code = formatted.extensions?.code;
  // The ledger refused the bearer (src/ledger/authorization.ts): an auth failure, not a bug.
  const cause = unwrapResolverError(error);
  if (cause instanceof AccessDenied) return { ...withoutStacktrace(formatted), message: cause.message, extensions: { code: "FORBIDDEN" } };
  if (code === "DATABASE_UNAVAILABLE" || (code === "INTERNAL_SERVER_ERROR" && isDatabaseUnavailable(unwrapResolverError(error)))) {
    return { ...withoutStacktrace(formatted), message: databaseUnavailableMessage, extensions: databaseUnavailableExtensions };
  }
  if (code !== "INTERNAL_SERVER_ERROR") return formatted;
  logger.error({ err: unwrapResolverError(error), path: formatted.path }, "internal error");
  return production ? { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } } : formatted;
}

function withoutStacktrace({ message, locations, path }: GraphQLFormattedError): GraphQLFormattedError {
  return { message, ...(locations ? { locations } : {}), ...(path ? { path } : {}) };
}
