// Webhook signatures, Stripe-style, so a receiver can tell a delivery came from this ledger and is
// fresh: `Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">[,v1=...]`.
// One v1 per signing secret: while a secret is being rotated, the previous one still signs, and a
// receiver holding either verifies. The timestamp is signed too, which bounds replays to a window.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { assert } from "../domain/assert.js";

export const signatureHeaderName = "Ledger-Signature";

export type VerifyResult = { ok: true } | { ok: false; reason: "MALFORMED" | "NO_MATCH" | "OUTSIDE_TOLERANCE" };

function hmacHex(secret: string, timestampSeconds: number, body: string): string {
  return createHmac("sha256", Buffer.from(secret, "utf8")).update(`${timestampSeconds}.${body}`, "utf8").digest("hex");
}

/** The header value: `t=<timestamp>`, then one `v1=` per secret, in the order given (current first). */
export function signPayload(secrets: readonly string[], body: string, timestampSeconds: number): string {
  assert(secrets.length > 0, "a webhook is signed with at least one secret");
  assert(Number.isSafeInteger(timestampSeconds) && timestampSeconds >= 0, "a signature's timestamp is whole seconds");
  return [`t=${timestampSeconds}`, ...secrets.map((secret) => `v1=${hmacHex(secret, timestampSeconds, body)}`)].join(",");
}

/** What a receiver runs: the header parses, one v1 matches `secret`, and `t` is within the tolerance of now. */
export function verifySignature(
  header: string,
  body: string,
  secret: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): VerifyResult {
  const { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) } = options;
  const pairs = header.split(",").map((part) => part.trim().split("="));
  const timestamps = pairs.filter(([key, value]) => key === "t" && /^\d{1,15}$/.test(value ?? ""));
  const signatures = pairs.filter(([key]) => key === "v1").map(([, value]) => Buffer.from(value ?? "", "hex"));
  if (timestamps.length !== 1 || signatures.length === 0) return { ok: false, reason: "MALFORMED" };
  const timestampSeconds = Number(timestamps[0]![1]);
  const expected = Buffer.from(hmacHex(secret, timestampSeconds, body), "hex");
  // Compared in constant time; a value of another length (not 64 hex digits) cannot match.
  const matches = signatures.some((signature) => signature.length === expected.length && timingSafeEqual(signature, expected));
  if (!matches) return { ok: false, reason: "NO_MATCH" };
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return { ok: false, reason: "OUTSIDE_TOLERANCE" };
  return { ok: true };
}

/** A new signing secret: `whsec_` and 32 random bytes, base64url (43 characters). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}
