// One webhook attempt (src/webhooks/sender.ts) against real HTTP servers on 127.0.0.1: what the
// receiver gets, and how each way a receiver can fail (status, redirect, silence, closed port, a
// flood, a full listen queue, a private address) comes back as the attempt's result.
import { type ChildProcess, spawn } from "node:child_process";
import { lookup } from "node:dns/promises";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { hostname } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { connectionPool, type SendOptions, sendWebhook } from "../../src/webhooks/sender.js";
import { checkWebhookUrl, isPrivateAddress } from "../../src/webhooks/url-safety.js";

const options: SendOptions = { connectTimeoutMs: 1000, totalTimeoutMs: 2000, responseBytesMax: 1024, allowPrivate: true };
const body = '{"type":"transfer.posted","id":"evt_1","amount":"12.50","memo":"café ✓"}';
const headers = { "Ledger-Signature": "t=1,v1=abc", "Ledger-Event-Id": "evt_1" };

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const servers: Server[] = [];
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server on 127.0.0.1 that answers with `respond` and records every request it got. */
async function receiver(respond: (response: ServerResponse, received: Received) => void) {
  const requests: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received = {
        method: request.method!,
        url: request.url!,
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(received);
      respond(response, received);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, port, requests, server };
}

// First, while no other test's servers or timers come and go.
describe("sendWebhook, on every path,", () => {
  it("leaves no timer or socket behind, whatever the outcome", async () => {
    const answering = await receiver((response) => response.writeHead(200).end("ok"));
    const silent = await receiver(() => {});
    const flooding = await receiver((response) => response.writeHead(200).end("y".repeat(1024 * 1024)));
    const closed = await receiver(() => {});
    await new Promise((resolve) => closed.server.close(resolve));
    const count = () => {
      const resources = process.getActiveResourcesInfo();
      return { timers: resources.filter((r) => r === "Timeout").length, sockets: resources.filter((r) => r === "TCPSocketWrap").length };
    };
    // Polled for up to 1 s (less than the attempts' timeouts, so a timer left behind is still seen) on
    // a timer of its own, which has fired (and is not counted) when it counts.
    const settled = async (done: (now: ReturnType<typeof count>) => boolean) => {
      for (let i = 0; i < 50 && !done(count()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      return count();
    };
    const before = await settled((now) => now.sockets === 0); // earlier tests' connections closed
    expect(before.sockets).toBe(0);
    const results = await Promise.all([
      sendWebhook({ url: answering.url, headers, body }, options),
      sendWebhook({ url: silent.url, headers, body }, { ...options, totalTimeoutMs: 200 }),
      sendWebhook({ url: flooding.url, headers, body }, { ...options, responseBytesMax: 10 }),
      sendWebhook({ url: `http://127.0.0.1:${closed.port}/`, headers, body }, options),
      sendWebhook({ url: "http://localhost/", headers, body }, { ...options, allowPrivate: false }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(["SUCCESS", "TIMEOUT", "SUCCESS", "CONNECT_ERROR", "REFUSED_ADDRESS"]);
    // The servers' ends of the connections close a moment after the sender's.
    const after = await settled((now) => now.sockets === 0 && now.timers <= before.timers);
    expect(after.sockets).toBe(0);
    expect(after.timers).toBeLessThanOrEqual(before.timers); // fewer: another timer of the runner's was done meanwhile
  });
});

describe("sendWebhook", () => {
  it("keeps a connection for the next attempt only after a response read whole", async () => {
    const big = { value: false };
    const target = await receiver((response) => response.writeHead(200).end(big.value ? "z".repeat(64 * 1024) : "ok"));
    const socketOfRequest: unknown[] = [];
    target.server.prependListener("request", (request) => socketOfRequest.push(request.socket));
    const pool = connectionPool();
    // undici hands a connection to the next request a full event-loop turn after its response
    // ended (a server may still close it): attempts back to back in one turn would open another.
    const send = async (responseBytesMax = 1024) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return sendWebhook({ url: target.url, headers, body }, { ...options, responseBytesMax }, pool);
    };
    expect((await send()).outcome).toBe("SUCCESS");
    expect((await send()).outcome).toBe("SUCCESS");
    big.value = true; // a body past the limit: not read to the end, so the connection is closed
    expect((await send(10)).outcome).toBe("SUCCESS");
    big.value = false;
    expect((await send()).outcome).toBe("SUCCESS");
    const [first, second, third, fourth] = socketOfRequest;
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(fourth).not.toBe(third);
    await pool.close();
  });

  it("tries once more on a new connection when the receiver dropped a kept one as the request went out", async () => {
    const requestsBySocket = new Map<unknown, number>();
    const target = await receiver((response) => response.writeHead(200).end("ok"));
    target.server.prependListener("request", (request) => {
      const n = (requestsBySocket.get(request.socket) ?? 0) + 1;
      requestsBySocket.set(request.socket, n);
      if (n === 2) request.socket.destroy(); // the second request on a kept connection: dropped unanswered
    });
    const pool = connectionPool();
    const send = () => sendWebhook({ url: target.url, headers, body }, options, pool);
    expect((await send()).outcome).toBe("SUCCESS");
    const again = await send();
    expect(again).toMatchObject({ outcome: "SUCCESS", statusCode: 200 });
    expect(requestsBySocket.size).toBe(2); // the kept connection, then a new one
    await pool.close();
  });

  it("posts the body with its headers, and a 200 is SUCCESS with the response body", async () => {
    const { url, port, requests } = await receiver((response) => response.writeHead(200, { "content-type": "text/plain" }).end("thanks"));
    const result = await sendWebhook({ url, headers, body }, options);
    expect(result).toMatchObject({ outcome: "SUCCESS", statusCode: 200, error: null, responseExcerpt: "thanks" });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(requests).toHaveLength(1);
    const [received] = requests;
    expect(received).toMatchObject({ method: "POST", url: "/hooks", body });
    expect(received!.headers).toEqual({
      host: `127.0.0.1:${port}`,
      connection: "close",
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "user-agent": "graphql-ledger-webhooks/1",
      "ledger-signature": "t=1,v1=abc",
      "ledger-event-id": "evt_1",
    });
  });

  it("sets content-type, content-length and user-agent itself, whatever the given headers say", async () => {
    const { url, requests } = await receiver((response) => response.writeHead(200).end());
    const given = { "Content-Type": "text/plain", "Content-Length": "1", "User-Agent": "other/1", "Ledger-Event-Id": "evt_2" };
    expect(await sendWebhook({ url, headers: given, body }, options)).toMatchObject({ outcome: "SUCCESS" });
    expect(requests[0]).toMatchObject({ body });
    expect(requests[0]!.headers).toMatchObject({
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "user-agent": "graphql-ledger-webhooks/1",
      "ledger-event-id": "evt_2",
    });
  });

  it.each<[number, string, string]>([
    [201, "SUCCESS", ""],
    [204, "SUCCESS", ""],
    [400, "HTTP_ERROR", "HTTP 400"],
    [404, "HTTP_ERROR", "HTTP 404"],
    [500, "HTTP_ERROR", "HTTP 500"],
    [503, "HTTP_ERROR", "HTTP 503"],
    [410, "GONE", "HTTP 410: the receiver says the endpoint is gone"],
  ])("takes a %i as %s", async (status, outcome, error) => {
    const { url } = await receiver((response) => response.writeHead(status).end(status === 204 ? undefined : `status ${status}`));
    expect(await sendWebhook({ url, headers, body }, options)).toMatchObject({
      outcome,
      statusCode: status,
      error: outcome === "SUCCESS" ? null : error,
      responseExcerpt: status === 204 ? "" : `status ${status}`,
    });
  });

  it("does not follow a redirect: a 302 is HTTP_ERROR 302 and its Location is never asked for", async () => {
    const target = await receiver((response) => response.writeHead(200).end("followed"));
    const { url, requests } = await receiver((response) => response.writeHead(302, { location: target.url }).end());
    expect(await sendWebhook({ url, headers, body }, options)).toMatchObject({
      outcome: "HTTP_ERROR",
      statusCode: 302,
      error: "HTTP 302: redirects are not followed",
    });
    expect(requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
  });

  it("gives up on a receiver that never answers after the total timeout: TIMEOUT", async () => {
    const { url, requests } = await receiver(() => {});
    const totalTimeoutMs = 300;
    const result = await sendWebhook({ url, headers, body }, { ...options, totalTimeoutMs });
    expect(result).toMatchObject({ outcome: "TIMEOUT", statusCode: null, responseExcerpt: null });
    expect(result.error).toMatch(/^timeout: no complete response within 300 ms$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(totalTimeoutMs);
    expect(result.durationMs).toBeLessThan(5 * totalTimeoutMs);
    expect(requests).toHaveLength(1); // it was connected and sent: the timeout is the total one
  });

  it("gives up on a body that trickles in past the total timeout, with the status it did get", async () => {
    const { url } = await receiver((response) => {
      response.writeHead(200);
      response.write("a");
    });
    const result = await sendWebhook({ url, headers, body }, { ...options, totalTimeoutMs: 300 });
    expect(result).toMatchObject({ outcome: "TIMEOUT", statusCode: 200, responseExcerpt: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
  });

  it("does not take a slow answer on a connection made in time for a connect timeout", async () => {
    const { url } = await receiver((response) => setTimeout(() => response.writeHead(200).end("late"), 400));
    expect(await sendWebhook({ url, headers, body }, { ...options, connectTimeoutMs: 100, totalTimeoutMs: 2000 })).toMatchObject({
      outcome: "SUCCESS",
      responseExcerpt: "late",
    });
  });

  it("takes a closed port as CONNECT_ERROR", async () => {
    const { port, server } = await receiver(() => {});
    await new Promise((resolve) => server.close(resolve));
    const result = await sendWebhook({ url: `http://127.0.0.1:${port}/`, headers, body }, options);
    expect(result).toMatchObject({ outcome: "CONNECT_ERROR", statusCode: null, responseExcerpt: null });
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it("takes a connection reset before any response as CONNECT_ERROR", async () => {
    const { url } = await receiver((response) => response.socket?.destroy());
    const result = await sendWebhook({ url, headers, body }, options);
    expect(result).toMatchObject({ outcome: "CONNECT_ERROR", statusCode: null });
    expect(result.error).toMatch(/other side closed|socket hang up|ECONNRESET/);
  });

  it("speaks TLS to an https URL: a receiver answering in plain HTTP is CONNECT_ERROR", async () => {
    const { port } = await receiver((response) => response.writeHead(200).end());
    const result = await sendWebhook({ url: `https://127.0.0.1:${port}/`, headers, body }, options);
    expect(result).toMatchObject({ outcome: "CONNECT_ERROR", statusCode: null, error: "connection failed: TLS wrong version number" });
  });

  it("takes a name that does not resolve as CONNECT_ERROR", async () => {
    const result = await sendWebhook({ url: "http://no-such-host.invalid/", headers, body }, options);
    expect(result).toMatchObject({ outcome: "CONNECT_ERROR", statusCode: null });
    expect(result.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it("keeps only responseBytesMax bytes of a huge response body, and stops reading it", async () => {
    let written = 0;
    const { url } = await receiver((response) => {
      response.writeHead(500);
      const chunk = "x".repeat(64 * 1024);
      // Writes until the connection is closed on it (about 64 MB at the most, should it never be).
      const more = () => {
        while (written < 64 * 1024 * 1024 && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once("drain", more);
        }
        response.end();
      };
      more();
    });
    const result = await sendWebhook({ url, headers, body }, { ...options, responseBytesMax: 1000 });
    expect(result).toMatchObject({ outcome: "HTTP_ERROR", statusCode: 500, responseExcerpt: "x".repeat(1000) });
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("keeps whole characters only when the byte limit falls inside one", async () => {
    const { url } = await receiver((response) => response.writeHead(200).end("ab✓cd")); // ✓ is 3 bytes
    const result = await sendWebhook({ url, headers, body }, { ...options, responseBytesMax: 3 });
    expect(result.responseExcerpt).toBe("ab");
  });

  it.each(["http://127.0.0.1:PORT/hooks", "http://localhost:PORT/hooks", "http://[::ffff:127.0.0.1]:PORT/hooks"])(
    "refuses %s when private addresses are not allowed (REFUSED_ADDRESS), sending nothing",
    async (template) => {
      const { port, requests } = await receiver((response) => response.writeHead(200).end());
      const result = await sendWebhook({ url: template.replace("PORT", String(port)), headers, body }, { ...options, allowPrivate: false });
      expect(result).toMatchObject({ outcome: "REFUSED_ADDRESS", statusCode: null, responseExcerpt: null });
      expect(result.error).toMatch(/private or local address/);
      expect(requests).toHaveLength(0);
    },
  );

  it("judges the same URL by each call's policy, whichever came first (the URL's check is kept per policy)", async () => {
    const { url, requests } = await receiver((response) => response.writeHead(200).end());
    const outcomes = [];
    for (const allowPrivate of [false, true, false, true]) {
      outcomes.push((await sendWebhook({ url, headers, body }, { ...options, allowPrivate })).outcome);
    }
    expect(outcomes).toEqual(["REFUSED_ADDRESS", "SUCCESS", "REFUSED_ADDRESS", "SUCCESS"]);
    expect(requests).toHaveLength(2);
  });

  it("refuses a name that resolves to a private address when connecting (REFUSED_ADDRESS), sending nothing", async (context) => {
    // Needs a name other than localhost (which is refused by its form) that resolves to a private
    // address: the machine's own name often does (127.0.1.1 on Debian, 172.17.x.x in a container).
    const name = hostname();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (!checkWebhookUrl(`http://${name}/`, false).ok || addresses.length === 0 || !addresses.some((a) => isPrivateAddress(a.address))) {
      return context.skip(`this machine's name (${name}) does not resolve to a private address`);
    }
    const { port, requests } = await receiver((response) => response.writeHead(200).end());
    const result = await sendWebhook({ url: `http://${name}:${port}/hooks`, headers, body }, { ...options, allowPrivate: false });
    expect(result).toMatchObject({ outcome: "REFUSED_ADDRESS", statusCode: null, responseExcerpt: null });
    expect(result.error).toMatch(new RegExp(`^${name} resolves to a private address \\(`));
    expect(requests).toHaveLength(0);
  });

  it("refuses a URL it may not send to as REFUSED_ADDRESS, saying why", async () => {
    expect(await sendWebhook({ url: "file:///etc/passwd", headers, body }, options)).toMatchObject({
      outcome: "REFUSED_ADDRESS",
      error: "a webhook URL is http or https",
    });
  });

  it("takes a header value Node refuses as CONNECT_ERROR without throwing or echoing it", async () => {
    const { url, requests } = await receiver((response) => response.writeHead(200).end());
    const result = await sendWebhook({ url, headers: { "x-bad": "secret\r\nvalue" }, body }, options);
    expect(result).toMatchObject({ outcome: "CONNECT_ERROR", statusCode: null });
    expect(result.error).not.toMatch(/secret/);
    expect(requests).toHaveLength(0);
  });
});

describe("sendWebhook's connect timeout", () => {
  // 10.255.255.1 (non-routable) does not time out in every sandbox (some accept any connection), so
  // the test makes a listener that takes no connections: a child process listens with a backlog of
  // one and then blocks, the queue is filled, and a further connection stays unanswered.
  let child: ChildProcess | undefined;
  const fillers: Socket[] = [];
  afterAll(() => {
    for (const socket of fillers) socket.destroy();
    child?.kill();
  });

  async function unansweredPort(): Promise<number> {
    const listener = `const s = require("node:net").createServer().listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
      process.stdout.write(s.address().port + "\\n");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });`;
    child = spawn(process.execPath, ["-e", listener], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve) => child!.stdout!.once("data", (data) => resolve(Number(String(data).trim()))));
    // Connections until one is left unanswered: the queue is full.
    for (let i = 0; i < 16; i++) {
      const socket = connect({ host: "127.0.0.1", port });
      fillers.push(socket);
      socket.on("error", () => {});
      const connected = await new Promise<boolean>((resolve) => {
        socket.once("connect", () => resolve(true));
        setTimeout(() => resolve(false), 300);
      });
      if (!connected) return port;
    }
    throw new Error("the listener's queue never filled: a connect timeout cannot be shown here");
  }

  it("gives up on a connection not made within connectTimeoutMs: TIMEOUT (connect timeout)", async () => {
    const port = await unansweredPort();
    const result = await sendWebhook(
      { url: `http://127.0.0.1:${port}/`, headers, body },
      { ...options, connectTimeoutMs: 300, totalTimeoutMs: 5000 },
    );
    expect(result).toMatchObject({ outcome: "TIMEOUT", statusCode: null, error: "connect timeout: not connected within 300 ms" });
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(result.durationMs).toBeLessThan(1500);
  });
});
