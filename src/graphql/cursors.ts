// Opaque cursors: base64url of a small JSON position. A cursor that does not decode is a
// client error, never a silently empty page.
import { GraphQLError } from "graphql";

export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

export function decodeCursor<T>(cursor: string | null | undefined, isValid: (value: unknown) => value is T): T | null {
  if (cursor === null || cursor === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) throw new GraphQLError("invalid cursor", { extensions: { code: "BAD_USER_INPUT", argument: "after" } });
  return value;
}

/**
 * An explicit `first` above pageSizeMax was refused before execution (limits-plugin.ts); the
 * schema's default is clamped here, so no page is ever larger than the limit.
 */
export function pageSize(first: number | null | undefined, pageSizeMax: number, fallback = 20): number {
  const size = first ?? fallback;
  if (size < 1) throw new GraphQLError("first must be at least 1", { extensions: { code: "BAD_USER_INPUT", argument: "first" } });
  return Math.min(size, pageSizeMax);
}

export function connection<T>(rows: T[], hasNextPage: boolean, cursorOf: (row: T) => string) {
  const edges = rows.map((node) => ({ node, cursor: cursorOf(node) }));
  return { edges, nodes: rows, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
