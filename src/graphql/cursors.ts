// Opaque cursors: base64url of a small JSON position. A cursor that does not decode is a
// client error, never a silently empty page.
import { GraphQLError } from "graphql";
import { parseInstant } from "../domain/instant.js";

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

/** A newest-first position { t: instant, id }: accounts, webhook endpoints, statements. */
export const isInstantIdCursor = (v: unknown): v is { t: string; id: string } =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { t?: unknown }).t === "string" &&
  parseInstant((v as { t: string }).t) !== null &&
  typeof (v as { id?: unknown }).id === "string";

/** A position { [key]: a positive 64-bit integer as text }: sequence numbers, line numbers, result ids. */
export const isSerialCursor =
  <K extends string>(key: K) =>
  (v: unknown): v is Record<K, string> =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as Record<string, unknown>)[key] === "string" &&
    /^[1-9]\d{0,18}$/.test((v as Record<K, string>)[key]);
