// Webhook signatures (src/webhooks/signature.ts): what the ledger signs, a receiver verifies, and
// anything altered, unsigned or stale is refused with the reason.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signatureHeaderName, signPayload, verifySignature } from "../../src/webhooks/signature.js";

const body = '{"type":"transfer.posted","id":"evt_1","amount":"12.50"}';
const now = 1_780_000_000;
const current = "whsec_current";
const previous = "whsec_previous";

describe("signPayload", () => {
  it("writes t=<timestamp>, then one v1 per secret in the order given, each an HMAC-SHA256 of <t>.<body>", () => {
    const hmac = (secret: string) => createHmac("sha256", secret).update(`${now}.${body}`).digest("hex");
    expect(signPayload([current, previous], body, now)).toBe(`t=${now},v1=${hmac(current)},v1=${hmac(previous)}`);
    expect(signatureHeaderName).toBe("Ledger-Signature");
  });
});

describe("verifySignature", () => {
  it("accepts what signPayload signed", () => {
    expect(verifySignature(signPayload([current], body, now), body, current, { nowSeconds: now })).toEqual({ ok: true });
  });

  it("accepts a header signed by two secrets with either of them (a rotation's grace period)", () => {
    const header = signPayload([current, previous], body, now);
    expect(verifySignature(header, body, current, { nowSeconds: now })).toEqual({ ok: true });
    expect(verifySignature(header, body, previous, { nowSeconds: now })).toEqual({ ok: true });
  });

  it("accepts a timestamp up to the tolerance away from now, on either side", () => {
    const header = signPayload([current], body, now);
    expect(verifySignature(header, body, current, { nowSeconds: now + 300 })).toEqual({ ok: true });
    expect(verifySignature(header, body, current, { nowSeconds: now - 300 })).toEqual({ ok: true });
    expect(verifySignature(header, body, current, { nowSeconds: now + 3600, toleranceSeconds: 3600 })).toEqual({ ok: true });
  });

  it("reads the clock when not told the time", () => {
    const header = signPayload([current], body, Math.floor(Date.now() / 1000));
    expect(verifySignature(header, body, current)).toEqual({ ok: true });
  });

  const signed = signPayload([current], body, now);
  it.each<[string, string, string, string, number, string]>([
    ["a tampered body", signed, `${body} `, current, now, "NO_MATCH"],
    ["another secret", signed, body, "whsec_other", now, "NO_MATCH"],
    ["a tampered timestamp", signed.replace(`t=${now}`, `t=${now + 1}`), body, current, now, "NO_MATCH"],
    ["a signature of the wrong length", `t=${now},v1=abcd`, body, current, now, "NO_MATCH"],
    ["a timestamp too far in the past", signed, body, current, now + 301, "OUTSIDE_TOLERANCE"],
    ["a timestamp too far in the future", signed, body, current, now - 301, "OUTSIDE_TOLERANCE"],
    ["an empty header", "", body, current, now, "MALFORMED"],
    ["garbage", "not a signature", body, current, now, "MALFORMED"],
    ["no timestamp", signed.replace(`t=${now},`, ""), body, current, now, "MALFORMED"],
    ["a timestamp that is not a number", signed.replace(`t=${now}`, "t=soon"), body, current, now, "MALFORMED"],
    ["two timestamps", `t=${now},${signed}`, body, current, now, "MALFORMED"],
    ["no v1 signature", `t=${now},v0=abc`, body, current, now, "MALFORMED"],
  ])("refuses %s", (_case, header, receivedBody, secret, nowSeconds, reason) => {
    expect(verifySignature(header, receivedBody, secret, { nowSeconds })).toEqual({ ok: false, reason });
  });
});

describe("newWebhookSecret", () => {
  it("is whsec_ and 32 random bytes in base64url, another each time", () => {
    const secrets = new Set(Array.from({ length: 20 }, newWebhookSecret));
    expect(secrets.size).toBe(20);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret.slice("whsec_".length), "base64url")).toHaveLength(32);
    }
  });
});
