// The README's signature-verification snippet is what receivers copy: it must accept what the
// service signs (both secrets during a rotation) and refuse tampering, other secrets and old
// timestamps.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signPayload } from "../../src/webhooks/signature.js";

function readmeSnippet(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Verifying the signature"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error("README: no ts block under Verifying the signature");
  return match[1]!;
}

describe("the README's webhook verification snippet", () => {
  it("accepts the service's signatures and refuses tampered, foreign or stale ones", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "readme-verify-")), "verify.ts");
    writeFileSync(file, readmeSnippet());
    const { verify } = (await import(file)) as { verify: (header: string, body: string, secret: string) => boolean };
    const [current, previous, other] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ id: "evt_1", type: "transfer.posted", data: { amount: "1050" } });
    const now = Math.floor(Date.now() / 1000);
    const header = signPayload([current, previous], body, now);
    expect(verify(header, body, current)).toBe(true);
    expect(verify(header, body, previous)).toBe(true);
    expect(verify(header, body, other)).toBe(false);
    expect(verify(header, body.replace("1050", "1051"), current)).toBe(false);
    expect(verify(signPayload([current], body, now - 3600), body, current)).toBe(false);
    expect(verify("garbage", body, current)).toBe(false);
  });
});
