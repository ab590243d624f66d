// What one webhook attempt costs the process that sends it: a child process of its own sends
// signed, event-sized POSTs to a receiver in this script (127.0.0.1), 16 at a time on kept-alive
// connections, in alternating rounds with the service's sender (src/webhooks/sender.ts) and with
// a bare node:http request (keep-alive agent), and reports its own CPU (process.cpuUsage) per
// request. Both in one process and one run, so the ratio holds on a noisy machine.
import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { track } from "./lifecycle.js";

const concurrency = 16;
const requestsPerRound = 20_000;
const rounds = 3;
const bodyBytes = 1_200;

export interface SenderCost {
  requestsPerRound: number;
  rounds: number;
  /** Median over the rounds of CPU µs per request. */
  senderUs: number;
  nodeHttpUs: number;
}

export async function measureSenderCost(): Promise<SenderCost> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const child = fork(fileURLToPath(import.meta.url), ["--sender-cost", url], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const untrack = track(`sender cost (pid ${child.pid})`, async () => {
    child.kill("SIGKILL");
  });
  try {
    return await new Promise<SenderCost>((resolve, reject) => {
      child.once("message", (m) => resolve(m as SenderCost));
      child.once("exit", (code) => reject(new Error(`the sender-cost child exited (${code}) before it answered`)));
    });
  } finally {
    untrack();
    child.kill();
    server.closeAllConnections();
    server.close();
  }
}

async function runChild(url: string): Promise<void> {
  const http = await import("node:http");
  const { connectionPool, sendWebhook } = await import("../../src/webhooks/sender.js");
  const body = JSON.stringify({ id: "evt_bench", data: { padding: "x".repeat(bodyBytes) } }).slice(0, bodyBytes);
  const headers = {
    "Ledger-Signature": `t=1,v1=${"a".repeat(64)}`,
    "Ledger-Event-Id": "evt_bench",
    "Ledger-Event-Type": "transfer.posted",
    "Ledger-Delivery-Id": "whdl_bench",
    "Ledger-Delivery-Attempt": "1",
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const bare = () =>
    new Promise<void>((resolve) => {
      const request = http.request(url, {
        method: "POST",
        agent,
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      });
      request.on("response", (response) => {
        response.resume();
        response.on("end", resolve);
      });
      request.on("error", () => resolve());
      request.end(body);
    });
  const pool = connectionPool();
  const options = { connectTimeoutMs: 5_000, totalTimeoutMs: 15_000, responseBytesMax: 4_096, allowPrivate: true };
  const sender = () => sendWebhook({ url, headers, body }, options, pool).then(() => {});
  const cpuPerRequest = async (one: () => Promise<void>) => {
    let next = 0;
    const before = process.cpuUsage();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < requestsPerRound) await one();
      }),
    );
    const used = process.cpuUsage(before);
    return (used.user + used.system) / requestsPerRound;
  };
  const senderUs: number[] = [];
  const nodeHttpUs: number[] = [];
  await cpuPerRequest(sender); // warm-up: connections made, code compiled
  await cpuPerRequest(bare);
  for (let round = 0; round < rounds; round++) {
    senderUs.push(await cpuPerRequest(sender));
    nodeHttpUs.push(await cpuPerRequest(bare));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  process.send!({ requestsPerRound, rounds, senderUs: median(senderUs), nodeHttpUs: median(nodeHttpUs) } satisfies SenderCost);
  await pool.close();
  agent.destroy();
}

if (process.argv[2] === "--sender-cost") void runChild(process.argv[3]!);
