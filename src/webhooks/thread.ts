// The service's webhook worker runs in a thread of its own (thread-main.ts): its JSON, pg rows,
// signatures and HTTP exchanges have an event loop and a heap of their own, so GraphQL requests
// never wait behind them (docs/benchmarks.md measures the cost of sharing one). This side starts
// it, tells it of commits, asks for its metrics, and starts it again if it dies.
import { Worker } from "node:worker_threads";
import type { Database } from "../db/client.js";
import { onCommitted } from "../db/commit-signal.js";
import { errorText, log } from "../ops/log.js";
import { addThreadMetrics } from "../ops/metrics.js";
import type { WebhookSettings } from "./settings.js";
import type { FromThread, ThreadAnswers, ToThread, WebhookThreadData } from "./thread-protocol.js";

const logger = log.child({ component: "webhooks" });

/** How long after a death the thread is started again (its work waits in the database meanwhile). */
const restartDelayMs = 1_000;

/** How long a stopped thread may take to end by itself (its worker closed everything) before it is ended. */
const exitWaitMs = 5_000;

export interface WebhookThread {
  /** Materializer passes until nothing is left (tests). */
  drain(): Promise<void>;
  /** The dispatcher's attempts in flight and sent since the thread started; once stopped, its last (tests). */
  dispatcher(): Promise<ThreadAnswers["dispatcher"]>;
  /** The thread running now (tests end it to see it started again). */
  thread(): Worker;
  /** Stops making events and claiming; waits for the attempts in flight to be recorded. */
  stop(): Promise<void>;
}

/** The thread's entry: the compiled .js next to this module, or, run from the sources, a bootstrap that loads them with tsx. */
function threadEntry(): URL {
  return new URL(import.meta.url.endsWith(".ts") ? "./thread-boot.mjs" : "./thread-main.js", import.meta.url);
}

/** Resolves once the thread has started its worker; fails if it could not. */
export async function startWebhookThread(db: Database, settings: WebhookSettings, key: Buffer): Promise<WebhookThread> {
  const data: WebhookThreadData = { connectionString: db.connectionString, settings, key: new Uint8Array(key) };
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let stopping = false;
  let thread: Worker;
  let ready: Promise<void>;
  /** Resolves when the current thread has ended. */
  let exited: Promise<void>;
  let alive = false;

  function start(): void {
    thread = new Worker(threadEntry(), { workerData: data, name: "ledger-webhooks" });
    alive = true;
    let exit: () => void;
    exited = new Promise((resolve) => {
      exit = resolve;
    });
    ready = new Promise<void>((resolve, reject) => {
      thread.on("message", (message: FromThread) => {
        if (message.type === "ready") return resolve();
        const request = pending.get(message.id);
        pending.delete(message.id);
        if (message.type === "answer") request?.resolve(message.value);
        else request?.reject(new Error(message.message));
      });
      thread.once("error", (error) => {
        reject(error);
        logger.error({ err: errorText(error) }, "the webhook thread failed");
      });
    });
    ready.catch(() => {});
    thread.once("exit", (code) => {
      alive = false;
      exit();
      for (const request of pending.values()) request.reject(new Error(`the webhook thread exited (code ${code})`));
      pending.clear();
      if (stopping) return;
      logger.error({ code }, "the webhook thread exited; starting it again");
      setTimeout(() => {
        if (!stopping) start();
      }, restartDelayMs).unref();
    });
  }

  async function ask<R extends keyof ThreadAnswers>(request: R): Promise<ThreadAnswers[R]> {
    await ready;
    if (!alive) throw new Error("the webhook thread is not running");
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      thread.postMessage({ type: "request", id, request } satisfies ToThread);
    });
  }

  /** Commits close together are told once (the materializer looks at most once per batch window anyway). */
  let told = false;
  function written(): void {
    if (told) return;
    told = true;
    setImmediate(() => {
      told = false;
      if (alive) thread.postMessage({ type: "written" } satisfies ToThread);
    });
  }

  start();
  try {
    await ready!;
  } catch (error) {
    stopping = true;
    await thread!.terminate();
    throw error;
  }
  let stoppedWith: ThreadAnswers["stop"] | null = null;
  const stopSignal = onCommitted(db.pool, written);
  const removeMetrics = addThreadMetrics(() => ask("metrics"));
  return {
    drain: async () => {
      await ask("drain");
    },
    dispatcher: async () => stoppedWith ?? ask("dispatcher"),
    thread: () => thread,
    async stop() {
      stopSignal();
      removeMetrics();
      stopping = true;
      try {
        stoppedWith = await ask("stop");
      } catch (error) {
        // Dead (between a death and its restart), or failing: nothing in flight is recorded, its leases run out.
        logger.warn({ err: errorText(error) }, "stopping the webhook thread failed");
        await thread.terminate();
      }
      const late = setTimeout(() => {
        logger.warn("the webhook thread did not end after stopping; ending it");
        void thread.terminate();
      }, exitWaitMs);
      await exited;
      clearTimeout(late);
    },
  };
}
