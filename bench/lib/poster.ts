// A child process that POSTs signed, event-sized JSON bodies to a URL, as many as it is told, at
// most 16 at a time on kept-alive connections (undici, the service's client): the HTTP work of
// sending one request per event, made by another process than the service (the webhooks
// group's "posts" windows).
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { track } from "./lifecycle.js";

const concurrency = 16;
/** About the size of a transfer.posted event's body. */
const bodyBytes = 1_200;

export interface Poster {
  /** Sends `count` more requests (gathered and passed on every 50 ms). */
  add(count: number): void;
  /** Waits for every request asked for; how many were answered. */
  stop(): Promise<number>;
}

export async function startPoster(url: string): Promise<Poster> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--poster", url], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`the poster exited (${code}) before it was ready`)));
  });
  const untrack = track(`poster (pid ${child.pid})`, async () => {
    child.kill("SIGKILL");
  });
  let pending = 0;
  const timer = setInterval(() => {
    if (pending > 0) child.send({ add: pending });
    pending = 0;
  }, 50);
  return {
    add(count) {
      pending += count;
    },
    async stop() {
      clearInterval(timer);
      child.send({ add: pending, end: true });
      const answered = await new Promise<number>((resolve) => child.once("message", (m: { answered: number }) => resolve(m.answered)));
      untrack();
      child.kill();
      return answered;
    },
  };
}

async function runPoster(url: string): Promise<void> {
  // The service's client (src/webhooks/sender.ts): undici, kept-alive connections.
  const { Pool } = await import("undici");
  const { createHmac, randomUUID } = await import("node:crypto");
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency });
  const secret = randomUUID();
  const body = JSON.stringify({ id: "evt_bench", type: "bench.post", data: { padding: "x".repeat(bodyBytes) } }).slice(0, bodyBytes);
  let queued = 0;
  let inFlight = 0;
  let answered = 0;
  let ending = false;
  const finish = () => {
    if (ending && queued === 0 && inFlight === 0) process.send!({ answered });
  };
  const post = () => {
    inFlight++;
    const t = Math.floor(Date.now() / 1000);
    const signature = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    pool
      .request({
        path: target.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "ledger-event-id": `evt_${randomUUID()}`,
          "ledger-event-type": "bench.post",
          "ledger-signature": `t=${t},v1=${signature}`,
        },
        body,
      })
      .then(async (response) => {
        await response.body.dump();
        answered++;
      })
      .catch(() => {})
      .finally(done);
  };
  function done() {
    inFlight--;
    pump();
    finish();
  }
  const pump = () => {
    while (queued > 0 && inFlight < concurrency) {
      queued--;
      post();
    }
  };
  process.on("message", (m: { add: number; end?: boolean }) => {
    queued += m.add;
    if (m.end) ending = true;
    pump();
    finish();
  });
  process.send!("ready");
}

if (process.argv[2] === "--poster") void runPoster(process.argv[3]!);
