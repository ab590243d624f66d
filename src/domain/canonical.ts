import { createHash } from "node:crypto";

/**
 * JSON with sorted keys and bigints as strings: equal requests give equal text. Written straight
 * to a string, without building sorted copies first (it runs for every write); the text is exactly
 * JSON.stringify of the key-sorted value, so stored fingerprints stay valid.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? "null";
}

/** The canonical text of `value`; undefined where JSON.stringify leaves it out (undefined, functions). */
function write(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return `"${value}"`;
    case "number":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((item) => write(item) ?? "null").join(",")}]`;
      if (value instanceof Date) return JSON.stringify(value);
      const parts: string[] = [];
      for (const key of Object.keys(value).sort()) {
        const item = write((value as Record<string, unknown>)[key]);
        if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return undefined;
  }
}

/** The fingerprint stored beside an idempotency key: operation plus canonical request. */
export function requestHash(operation: string, request: unknown): string {
  return createHash("sha256").update(operation).update("\n").update(canonicalJson(request)).digest("hex");
}
