// Signing secrets encrypted at rest (src/webhooks/secret-box.ts): what is sealed opens under the
// same key, and only as it was sealed.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKey, openSecret, sealSecret } from "../../src/webhooks/secret-box.js";

const key = randomBytes(32);
const secret = "whsec_6qZQ1bYw0m9mJtq3vXc2Hn4pEw8kRr5sLd7aFg0uTi";

/** The sealed text with one character of part `index` (0 is "v1") changed. */
function altered(sealed: string, index: number): string {
  const parts = sealed.split(".");
  const part = parts[index]!;
  parts[index] = (part[0] === "A" ? "B" : "A") + part.slice(1);
  return parts.join(".");
}

describe("sealSecret and openSecret", () => {
  it.each(["", secret, "ünïcødé ✓ secret", "x".repeat(10_000)])("give back what was sealed (%#)", (plain) => {
    expect(openSecret(key, sealSecret(key, plain))).toBe(plain);
  });

  it("write v1.<iv>.<tag>.<ciphertext> in base64url, a fresh IV each time", () => {
    const sealed = sealSecret(key, secret);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret);
    expect(sealSecret(key, secret)).not.toBe(sealed);
  });

  it.each([
    ["the IV", 1],
    ["the tag", 2],
    ["the ciphertext", 3],
  ])("refuse a sealed secret whose %s was altered", (_part, index) => {
    expect(() => openSecret(key, altered(sealSecret(key, secret), index))).toThrow(/altered, or sealed under another key/);
  });

  it("refuse another key", () => {
    expect(() => openSecret(randomBytes(32), sealSecret(key, secret))).toThrow(/altered, or sealed under another key/);
  });

  it.each(["", "whsec_plain", "v2.a.b.c", "v1.a.b", "v1.a!.b.c", `v1.${"A".repeat(16)}.${"A".repeat(21)}.AAAA`])(
    "refuse text that is not a sealed secret: %j",
    (text) => {
      expect(() => openSecret(key, text)).toThrow(/not a sealed secret/);
    },
  );

  it("refuse a key that is not 32 bytes", () => {
    expect(() => sealSecret(randomBytes(16), secret)).toThrow(/32 bytes/);
    expect(() => openSecret(randomBytes(33), sealSecret(key, secret))).toThrow(/32 bytes/);
  });
});

describe("deriveKey", () => {
  it("makes a 32-byte key of a passphrase or of bytes, the same each time, another for other material", () => {
    expect(deriveKey("a long configured passphrase")).toHaveLength(32);
    expect(deriveKey("a long configured passphrase")).toEqual(deriveKey(Buffer.from("a long configured passphrase")));
    expect(deriveKey("another passphrase")).not.toEqual(deriveKey("a long configured passphrase"));
    const derived = deriveKey(randomBytes(64));
    expect(openSecret(derived, sealSecret(derived, secret))).toBe(secret);
  });

  it("refuses empty material", () => {
    expect(() => deriveKey("")).toThrow(/non-empty/);
  });
});
