// `npm start`: the service on DATABASE_URL, or on an embedded PostgreSQL kept in .data/.
// LEDGER_WORKERS > 1 runs that many processes on one port (src/ops/cluster.ts).
import cluster from "node:cluster";
import { loadConfig, type Config } from "./config.js";
import { announceReady } from "./ops/announce.js";
import { runPrimary, runWorker } from "./ops/cluster.js";
import { startInstance, type Instance } from "./ops/instance.js";
import { log } from "./ops/log.js";
import { prepareDatabase } from "./ops/prepare.js";
import { onStopSignals } from "./ops/signals.js";
import { startupFailure } from "./ops/startup-failure.js";
import type { DatabaseTarget } from "./db/database-url.js";

const config = configOrExit();
if (cluster.isWorker) await runWorker(config);
else if (config.workers > 1) await runPrimary(config);
else await runSingle(config);

/** The settings, or (one that cannot be used) a line naming it and exit code 1. */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    startupFailure(error);
    process.exit(1);
  }
}

/** One process: prepare, serve; on a signal drain, stop the database, exit. */
async function runSingle(config: Config): Promise<void> {
  let target: DatabaseTarget | undefined;
  let instance: Instance | undefined;
  let stopping = false;
  const started = (async () => {
    target = await prepareDatabase(config);
    instance = await startInstance(config, target.url);
  })();
  onStopSignals(
    () => {
      stopping = true;
      void started
        .catch(() => {})
        .then(async () => {
          const drained = (await instance?.stop()) ?? true;
          await target?.stop();
          log.info(drained ? "stopped" : "stopped; the drain timeout cut requests still running");
          process.exit(drained ? 0 : 1);
        });
    },
    (_signal, exitCode) => void target?.stop().finally(() => process.exit(exitCode)),
  );
  try {
    await started;
  } catch (error) {
    startupFailure(error);
    await target?.stop().catch(() => {});
    process.exit(1);
  }
  if (!stopping) announceReady(config, instance!.service.port, 1);
}
