// LEDGER_WORKERS > 1: several service processes on one port (node:cluster). The primary starts
// the embedded PostgreSQL (unless DATABASE_URL is set), applies the migrations and makes the
// demo tenant once, then forks the workers; each serves HTTP + WebSocket on the shared port and
// runs its own change feed and expiry job (both work across instances). Signals go to the
// primary, which drains the workers, then stops the database. /metrics, answered by any worker,
// describes the whole service: the primary sums every worker's registry (AggregatorRegistry).
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import type { Config } from "../config.js";
import type { DatabaseTarget } from "../db/database-url.js";
import { announceReady } from "./announce.js";
import { startInstance, type Instance } from "./instance.js";
import { log } from "./log.js";
import { prepareDatabase } from "./prepare.js";
import { startRateLimitStore } from "./rate-limits.js";
import { onStopSignals } from "./signals.js";
import { startupFailure } from "./startup-failure.js";

type ToPrimary =
  | { type: "ledger:ready"; port: number }
  | { type: "ledger:failed"; message: string }
  | { type: "ledger:metrics-request"; id: number };
type ToWorker = { type: "ledger:stop" } | { type: "ledger:metrics"; id: number; text: string };

const logger = log.child({ component: "cluster" });
/** How long the primary gives a worker beyond the drain timeout before it kills it. */
const stopMarginMs = 15_000;

export async function runPrimary(config: Config): Promise<void> {
  let target: DatabaseTarget | undefined;
  let stopping = false;
  const workers = new Set<Worker>();
  const aggregator = new AggregatorRegistry();
  startRateLimitStore();

  async function stopAll(exitCode: number | null): Promise<never> {
    stopping = true;
    const exits = [...workers].map(
      (worker) =>
        new Promise<boolean>((resolve) => {
          if (worker.isDead()) return resolve(true);
          const timer = setTimeout(() => worker.process.kill("SIGKILL"), config.drainTimeoutMs + stopMarginMs);
          worker.once("exit", (code) => {
            clearTimeout(timer);
            resolve(code === 0);
          });
          if (exitCode === null) send(worker, { type: "ledger:stop" });
          else worker.process.kill("SIGKILL");
        }),
    );
    const clean = (await Promise.all(exits)).every(Boolean);
    await target?.stop().catch((error: unknown) => logger.error({ err: error }, "stopping the database failed"));
    if (exitCode === null) logger.info(clean ? "stopped" : "stopped; a worker was cut by the drain timeout");
    process.exit(exitCode ?? (clean ? 0 : 1));
  }

  onStopSignals(
    () => void stopAll(null),
    (_signal, exitCode) => void stopAll(exitCode),
  );
  try {
    target = await prepareDatabase(config);
  } catch (error) {
    startupFailure(error);
    process.exit(1);
  }
  if (stopping) return;

  // Workers reach the database by URL: they never start or import the embedded server.
  const fork = (): Promise<number> => {
    const worker = cluster.fork({ DATABASE_URL: target!.url, LEDGER_DEMO_TENANT: "false" });
    workers.add(worker);
    let ready = false;
    return new Promise((resolve, reject) => {
      worker.on("message", (message: ToPrimary) => {
        if (message.type === "ledger:ready") {
          ready = true;
          resolve(message.port);
        } else if (message.type === "ledger:failed") reject(new Error(message.message));
        else if (message.type === "ledger:metrics-request") {
          aggregator.clusterMetrics().then(
            (text) => send(worker, { type: "ledger:metrics", id: message.id, text }),
            (error: Error) => send(worker, { type: "ledger:metrics", id: message.id, text: `# metrics unavailable: ${error.message}\n` }),
          );
        }
      });
      worker.once("exit", (code, signal) => {
        workers.delete(worker);
        reject(new Error(`worker ${worker.process.pid} exited (code ${code}, signal ${signal}) before it was ready`));
        if (stopping || !ready) return;
        // A worker that dies while serving is replaced; its in-flight requests are lost to it alone.
        logger.error({ pid: worker.process.pid, code, signal }, "a worker exited; starting another");
        setTimeout(() => void fork().catch((error: Error) => logger.error(error.message)), 1000).unref();
      });
    });
  };

  try {
    const ports = await Promise.all(Array.from({ length: config.workers }, fork));
    if (!stopping) announceReady(config, ports[0]!, config.workers);
  } catch (error) {
    if (stopping) return;
    logger.fatal((error as Error).message);
    await stopAll(1);
  }
}

export async function runWorker(config: Config): Promise<void> {
  new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  const pending = new Map<number, (text: string) => void>();
  let nextId = 0;
  const metricsText = () =>
    new Promise<string>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      process.send!({ type: "ledger:metrics-request", id } satisfies ToPrimary);
    });

  let instance: Instance | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const drained = (await instance?.stop()) ?? true;
      process.exit(drained ? 0 : 1);
    })());
  process.on("message", (message: ToWorker) => {
    if (message.type === "ledger:stop") void stop();
    if (message.type === "ledger:metrics") {
      pending.get(message.id)?.(message.text);
      pending.delete(message.id);
    }
  });
  // A terminal's Ctrl-C reaches the workers too: the same drain as the primary's stop message.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => void stop());
  process.on("disconnect", () => void stop()); // the primary is gone
  try {
    instance = await startInstance(config, process.env.DATABASE_URL!, metricsText);
  } catch (error) {
    process.send!({ type: "ledger:failed", message: error instanceof Error ? error.message : String(error) } satisfies ToPrimary);
    process.exit(1);
  }
  process.send!({ type: "ledger:ready", port: instance.service.port } satisfies ToPrimary);
}

function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}
