// SSRF protection (src/webhooks/url-safety.ts): which webhook URLs are refused for their form or
// their host, which addresses count as private, and the lookup that checks resolved addresses.
import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, guardedLookup, isPrivateAddress } from "../../src/webhooks/url-safety.js";

describe("isPrivateAddress", () => {
  it.each([
    // loopback
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    // private
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "fc00::1",
    "fd12:3456:789a::1",
    // link-local, cloud metadata
    "169.254.169.254",
    "169.254.0.1",
    "fe80::1",
    "fe80::1%eth0",
    "fd00:ec2::254",
    // unspecified, "this network"
    "0.0.0.0",
    "0.1.2.3",
    "::",
    // carrier-grade NAT
    "100.64.0.1",
    "100.127.255.255",
    // multicast, reserved, broadcast
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "ff02::1",
    "ff0e::1",
    // documentation, benchmarking, protocol assignments
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",
    "192.0.0.8",
    "2001:db8::1",
    "3fff::1",
    // IPv4 inside IPv6: mapped, compatible, NAT64, 6to4, Teredo
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "0:0:0:0:0:ffff:c0a8:0101",
    "::127.0.0.1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "2002:7f00:1::1",
    "2002:a9fe:a9fe::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    // outside 2000::/3 (not global unicast)
    "100::1",
    "4000::1",
    "::ffff:0:7f00:1",
    // not an address at all: fails closed
    "example.com",
    "",
    "127.0.0.1.nip.io",
  ])("%s is private", (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "172.15.255.255",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "169.253.255.255",
    "192.169.0.1",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
  ])("%s is public", (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });
});

describe("checkWebhookUrl", () => {
  it.each([
    "https://example.com/webhooks",
    "http://example.com:8080/hooks?tenant=1#x",
    "https://8.8.8.8/",
    "https://[2606:4700:4700::1111]/",
    "https://localhost.example.com/",
    "https://metadata.google.internal.example.com/",
    "HTTPS://Example.COM/",
  ])("accepts %s", (text) => {
    const checked = checkWebhookUrl(text, false);
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.url.href).toBe(new URL(text).href);
  });

  it.each([
    "http://127.0.0.1/",
    "http://127.0.0.1:4000/graphql",
    "http://10.1.2.3/",
    "http://172.20.0.1/",
    "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://2130706433/",
    "http://127.1/",
    "http://localhost/",
    "http://localhost.:8080/",
    "http://LOCALHOST/",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata.google.internal./",
    "http://ⓛocalhost/", // IDNA maps it to localhost
    "http://localhost%2e/",
    "http://①②⑦.0.0.1/",
  ])("refuses %s as a private address, unless private addresses are allowed", (text) => {
    expect(checkWebhookUrl(text, false)).toMatchObject({ ok: false, reason: "URL_PRIVATE_ADDRESS" });
    expect(checkWebhookUrl(text, true)).toMatchObject({ ok: true });
  });

  it.each<[string, string]>([
    ["ftp://example.com/", "URL_SCHEME"],
    ["file:///etc/passwd", "URL_SCHEME"],
    ["javascript:alert(1)", "URL_SCHEME"],
    ["ws://example.com/", "URL_SCHEME"],
    ["gopher://127.0.0.1:6379/_INFO", "URL_SCHEME"],
    ["https://user:pass@example.com/", "URL_CREDENTIALS"],
    ["https://user@example.com/", "URL_CREDENTIALS"],
    ["https://:pass@example.com/", "URL_CREDENTIALS"],
    ["http://127.0.0.1:80@example.com/", "URL_CREDENTIALS"],
    ["", "URL_FORMAT"],
    ["not a url", "URL_FORMAT"],
    ["example.com/webhooks", "URL_FORMAT"],
    ["https://", "URL_FORMAT"],
    ["https://exa mple.com/", "URL_FORMAT"],
    ["http://[::1/", "URL_FORMAT"],
    ["http://256.0.0.1/", "URL_FORMAT"],
    [`https://example.com/${"a".repeat(2030)}`, "URL_FORMAT"],
    [`https://example.com/${"é".repeat(500)}`, "URL_FORMAT"], // 520 characters as given, over 2048 once percent-encoded
  ])("refuses %j: %s", (text, reason) => {
    expect(checkWebhookUrl(text, false)).toMatchObject({ ok: false, reason, message: expect.any(String) });
    expect(checkWebhookUrl(text, true)).toMatchObject({ ok: false, reason });
  });

  it("accepts a URL of 2048 characters", () => {
    const text = `https://example.com/${"a".repeat(2048 - "https://example.com/".length)}`;
    expect(text).toHaveLength(2048);
    expect(checkWebhookUrl(text, false).ok).toBe(true);
  });
});

describe("guardedLookup", () => {
  type Resolved = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };
  const lookup = (allowPrivate: boolean, hostname: string, all: boolean) =>
    new Promise<Resolved>((resolve) => {
      guardedLookup(allowPrivate)(hostname, { all }, (error, address, family) => resolve({ error, address, family }));
    });

  it.each([true, false])("refuses localhost (a loopback address) unless private addresses are allowed (all: %s)", async (all) => {
    const refused = await lookup(false, "localhost", all);
    expect(refused.error?.code).toBe("WEBHOOK_PRIVATE_ADDRESS");
    expect(refused.error?.message).toMatch(/^localhost resolves to a private address \((127\.0\.0\.1|::1)\)$/);
  });

  it("resolves localhost when private addresses are allowed, with or without all", async () => {
    const every = await lookup(true, "localhost", true);
    expect(every.error).toBeNull();
    const addresses = every.address as LookupAddress[];
    expect(addresses.length).toBeGreaterThan(0);
    for (const { address } of addresses) expect(["127.0.0.1", "::1"]).toContain(address);

    const one = await lookup(true, "localhost", false);
    expect(one.error).toBeNull();
    expect(one.address).toBe(addresses[0]!.address);
    expect(one.family).toBe(addresses[0]!.family);
  });

  it("passes a resolver's failure on as it is", async () => {
    const failed = await lookup(true, "no-such-host.invalid", false);
    expect(failed.error?.code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });
});
