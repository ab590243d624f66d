// Amount and BigInt inputs take only JSON strings (literals: GraphQL strings). Anything else is
// handed on as NotAString, so the domain answers a typed InvalidInput (AMOUNT_NOT_A_STRING) with
// the field's path rather than a bare GraphQL error, and a JSON number, which may already have
// lost digits in JSON.parse, is never taken for an amount. Output is always a decimal string.
import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from "graphql";
import { instantOf, parseInstant, type Instant } from "../domain/instant.js";
import { NotAString, type AmountInput } from "../domain/money.js";

function serializeInteger(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" && /^-?\d+$/.test(value)) return value;
  throw new GraphQLError("internal: a non-integer reached an integer scalar");
}

function parseIntegerValue(value: unknown): AmountInput {
  if (typeof value === "string") return value;
  return new NotAString(
    typeof value === "number" || typeof value === "boolean"
      ? `the JSON ${typeof value} ${String(value)}`
      : `JSON ${value === null ? "null" : typeof value}`,
  );
}

function parseIntegerLiteral(ast: ValueNode): AmountInput {
  return ast.kind === Kind.STRING ? ast.value : new NotAString(`the literal ${print(ast)}`);
}

export const AmountScalar = new GraphQLScalarType({
  name: "Amount",
  serialize: serializeInteger,
  parseValue: parseIntegerValue,
  parseLiteral: parseIntegerLiteral,
});

export const BigIntScalar = new GraphQLScalarType({
  name: "BigInt",
  serialize: serializeInteger,
  parseValue: parseIntegerValue,
  parseLiteral: parseIntegerLiteral,
});

const dateTimeRule = "DateTime must be an ISO 8601 instant with a time zone and at most microseconds, e.g. 2026-11-21T18:00:00.123456Z";

function parseDate(text: unknown): Instant {
  const instant = typeof text === "string" ? parseInstant(text) : null;
  if (!instant) throw new GraphQLError(dateTimeRule);
  return instant;
}

/** Always written to the microsecond (six fractional digits), as PostgreSQL keeps instants. */
export const DateTimeScalar = new GraphQLScalarType({
  name: "DateTime",
  serialize: (value) => {
    if (value instanceof Date) return instantOf(value).toISOString();
    throw new GraphQLError("internal: DateTime expects a Date");
  },
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

/** Objects pass through; the domain checks that metadata is an object and within its size limit. */
export const JSONObjectScalar = new GraphQLScalarType({
  name: "JSONObject",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => literalToValue(ast, variables ?? {}),
});

function literalToValue(ast: ValueNode, variables: Record<string, unknown>): unknown {
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToValue(f.value, variables)]));
    case Kind.LIST:
      return ast.values.map((v) => literalToValue(v, variables));
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.VARIABLE:
      return variables[ast.name.value];
  }
}
