// SSRF protection for webhook URLs: a tenant names the URL, the ledger's server sends to it, so a
// URL must not reach the ledger's own network (loopback, private ranges, cloud metadata at
// 169.254.169.254). Two checks: `checkWebhookUrl` when a URL is given (its form, and a host that is an
// IP literal or a well-known local name), and `guardedLookup` at every connection, which checks the
// addresses a hostname resolves to at the moment of connecting. The second is the one that counts:
// a hostname may resolve to a public address when registered and to 127.0.0.1 later (DNS rebinding).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

export type UrlCheck =
  | { ok: true; url: URL }
  | { ok: false; reason: "URL_FORMAT" | "URL_SCHEME" | "URL_CREDENTIALS" | "URL_PRIVATE_ADDRESS"; message: string };

export const webhookUrlLengthMax = 2048;

/** The code of the error `guardedLookup` fails with. */
export const privateAddressErrorCode = "WEBHOOK_PRIVATE_ADDRESS";

/** The form of a webhook URL, without resolving it: what can be refused as soon as it is given. */
export function checkWebhookUrl(text: string, allowPrivate: boolean): UrlCheck {
  if (text.length > webhookUrlLengthMax) {
    return { ok: false, reason: "URL_FORMAT", message: `a webhook URL is at most ${webhookUrlLengthMax} characters` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "URL_FORMAT", message: "not a URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: "URL_SCHEME", message: "a webhook URL is http or https" };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "URL_CREDENTIALS", message: "a webhook URL holds no user name or password" };
  }
  if (url.href.length > webhookUrlLengthMax) {
    return { ok: false, reason: "URL_FORMAT", message: `a webhook URL is at most ${webhookUrlLengthMax} characters` };
  }
  // The parser has already written IP literals in their plain form (0x7f.1 and 2130706433 are
  // 127.0.0.1; [::ffff:127.0.0.1] is [::ffff:7f00:1]); a trailing dot names the same host.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.+$/, "");
  if (host === "") return { ok: false, reason: "URL_FORMAT", message: "a webhook URL names a host" };
  const local = isIP(host) !== 0 ? isPrivateAddress(host) : localHostnames.test(host);
  if (local && !allowPrivate) {
    return { ok: false, reason: "URL_PRIVATE_ADDRESS", message: `${host} is a private or local address` };
  }
  return { ok: true, url };
}

const localHostnames = /^(localhost|.+\.localhost|metadata\.google\.internal)$/;

// The IANA special-purpose ranges a webhook has no business reaching.
const blockedRanges = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  blockedRanges.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard-only
  ["2001::", 32], // Teredo: tunnels to an IPv4 address that cannot be checked here
  ["2001:2::", 48], // benchmarking
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  blockedRanges.addSubnet(network, prefix, "ipv6");
}
const globalUnicast = new BlockList();
globalUnicast.addSubnet("2000::", 3, "ipv6");

/**
 * True when `ip` is not a public unicast address: loopback, private, link-local, unspecified,
 * CGNAT, multicast, reserved, documentation or benchmarking, or IPv6 outside 2000::/3; an IPv6
 * address that embeds an IPv4 one (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::,
 * 6to4 2002::) is judged by the IPv4 address. Not an IP address at all: true (fail closed).
 */
export function isPrivateAddress(ip: string): boolean {
  const address = ip.replace(/%.*$/, ""); // a zone (fe80::1%eth0) is only allowed on link-local addresses anyway
  const family = isIP(address);
  if (family === 4) return blockedRanges.check(address, "ipv4");
  if (family !== 6) return true;
  const embedded = embeddedIpv4(ipv6Groups(address));
  if (embedded !== null) return blockedRanges.check(embedded, "ipv4");
  return blockedRanges.check(address, "ipv6") || !globalUnicast.check(address, "ipv6");
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and a trailing dotted quad). */
function ipv6Groups(address: string): number[] {
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((group) => group.toString(16)).join(":"),
  );
  const [head = "", tail] = text.split("::");
  const parse = (part: string | undefined) => (part ? part.split(":").map((group) => Number.parseInt(group, 16)) : []);
  const [front, back] = [parse(head), parse(tail)];
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The IPv4 address inside an IPv6 one that carries it (mapped, compatible, NAT64, 6to4), else null. */
function embeddedIpv4(groups: number[]): string | null {
  const quad = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const zeroTo4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroTo4 && (g5 === 0xffff || g5 === 0)) return quad(g6, g7); // ::ffff:a.b.c.d, ::a.b.c.d (and ::, ::1)
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return quad(g6, g7); // 64:ff9b::/96
  if (g0 === 0x2002) return quad(g1, g2); // 6to4
  return null;
}

/**
 * A `lookup` for `http.request` (the signature of `dns.lookup`, with or without `all`) that resolves
 * with `dns.lookup` and fails, with an Error whose code is `WEBHOOK_PRIVATE_ADDRESS`, when any address
 * the name resolves to is private (unless `allowPrivate`). The connection is then made to an address
 * that was checked, whatever the name resolves to later.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "");
      const refused = allowPrivate ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused) {
        const refusal = Object.assign(new Error(`${hostname} resolves to a private address (${refused.address})`), {
          code: privateAddressErrorCode,
        });
        return callback(refusal, "");
      }
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`${hostname} resolves to no address`), { code: "ENOTFOUND" }), "");
      if (options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}
