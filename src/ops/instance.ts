// One serving instance: the pool, HTTP + WebSocket, the change feed and the expiry job. Run by
// the single process, or by each cluster worker.
import type { Config } from "../config.js";
import { connectDatabase } from "../db/client.js";
import { startService, type Service } from "../http/server.js";
import { startExpiryJob } from "../ledger/expiry.js";

export interface Instance {
  service: Service;
  /** Drains (at most drainTimeoutMs), then stops the workers and closes the pool; true when nothing was cut. */
  stop(): Promise<boolean>;
}

export async function startInstance(config: Config, databaseUrl: string, metricsText?: () => Promise<string>): Promise<Instance> {
  const db = connectDatabase(databaseUrl, config.poolSizeMax, config.writes);
  let service: Service;
  try {
    service = await startService({
      db,
      limits: config.limits,
      production: config.production,
      port: config.port,
      host: config.host,
      authCacheMs: config.authCacheMs,
      accessTokenSecret: config.accessTokenSecret,
      graphiql: config.graphiql,
      dashboard: config.dashboard,
      introspection: config.introspection,
      live: config.live,
      drainTimeoutMs: config.drainTimeoutMs,
      metrics: config.metrics,
      metricsText,
      readyTimeoutMs: config.readyTimeoutMs,
      mutationsPerSecondMax: config.mutationsPerSecondMax,
      connectionsPerSecondMax: config.connectionsPerSecondMax,
      webSocketConnectionsMax: config.webSocketConnectionsMax,
      webSocketConnectionsPerTenantMax: config.webSocketConnectionsPerTenantMax,
      webhooks: config.webhooks,
    });
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  const expiry = startExpiryJob(db, config.holdExpiryIntervalMs);
  let stopped: Promise<boolean> | undefined;
  return {
    service,
    stop: () =>
      (stopped ??= (async () => {
        const { drained } = await service.stop(config.drainTimeoutMs);
        await expiry.stop();
        await db.close();
        return drained;
      })()),
  };
}
