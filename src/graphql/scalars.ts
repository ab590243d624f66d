// Amount is deliberately lenient at parse time: any string or number literal passes through as
// text, so a bad amount becomes a typed InvalidInput result (with the field's path) from the
// domain, not a bare GraphQL validation error. Output is always a decimal string.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

function serializeInteger(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" && /^-?\d+$/.test(value)) return value;
  throw new GraphQLError("internal: a non-integer reached an integer scalar");
}

const lenientText = (name: string) => (value: unknown): string => {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new GraphQLError(`${name} must be a decimal string, e.g. "1050"`);
};

const lenientLiteral = (name: string) => (ast: ValueNode): string => {
  if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return ast.value;
  throw new GraphQLError(`${name} must be a decimal string, e.g. "1050"`);
};

export const AmountScalar = new GraphQLScalarType({
  name: "Amount",
  serialize: serializeInteger,
  parseValue: lenientText("Amount"),
  parseLiteral: lenientLiteral("Amount"),
});

export const BigIntScalar = new GraphQLScalarType({
  name: "BigInt",
  serialize: serializeInteger,
  parseValue: lenientText("BigInt"),
  parseLiteral: lenientLiteral("BigInt"),
});

function parseDate(text: unknown): Date {
  const date = typeof text === "string" && /^\d{4}-\d\d-\d\dT/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime must be an ISO 8601 instant, e.g. 2026-11-21T18:00:00Z");
  return date;
}

export const DateTimeScalar = new GraphQLScalarType({
  name: "DateTime",
  serialize: (value) => {
    if (value instanceof Date) return value.toISOString();
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
