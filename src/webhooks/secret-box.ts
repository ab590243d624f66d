// Signing secrets encrypted at rest: the ledger must read them back to sign (so they cannot be
// hashed), and a database dump alone should not give them away. AES-256-GCM under a key kept
// outside the database; the stored text is `v1.<iv>.<tag>.<ciphertext>`, each part base64url, the
// version first so another scheme can come later. GCM's tag makes any change to it detectable.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { assert } from "../domain/assert.js";

const algorithm = "aes-256-gcm";
const ivBytes = 12;
const tagBytes = 16;
const base64url = /^[A-Za-z0-9_-]*$/;

function assertKey(key: Buffer): void {
  assert(key.length === 32, `a secret box key is 32 bytes (AES-256), not ${key.length}`);
}

/** A 32-byte key from configured material: a passphrase (use a long random one) or a stored random secret. */
export function deriveKey(secretMaterial: Buffer | string): Buffer {
  assert(secretMaterial.length > 0, "a secret box key is derived from non-empty material");
  return createHash("sha256").update(secretMaterial).digest();
}

export function sealSecret(key: Buffer, plain: string): string {
  assertKey(key);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagBytes });
  const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return ["v1", ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString("base64url"))].join(".");
}

/** The secret `sealSecret` sealed; throws when the text is not a sealed secret, was altered, or the key is another. */
export function openSecret(key: Buffer, sealed: string): string {
  assertKey(key);
  const [version, ...parts] = sealed.split(".");
  if (version !== "v1" || parts.length !== 3 || !parts.every((part) => base64url.test(part))) {
    throw new Error("not a sealed secret (expected v1.<iv>.<tag>.<ciphertext>, base64url)");
  }
  const [iv, tag, ciphertext] = parts.map((part) => Buffer.from(part, "base64url")) as [Buffer, Buffer, Buffer];
  if (iv.length !== ivBytes || tag.length !== tagBytes) throw new Error("not a sealed secret (wrong IV or tag length)");
  const decipher = createDecipheriv(algorithm, key, iv, { authTagLength: tagBytes });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch {
    throw new Error("sealed secret cannot be opened: it was altered, or sealed under another key");
  }
}
