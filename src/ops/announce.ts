// The lines an operator looks for once the service serves (the benchmark waits for the first).
import type { Config } from "../config.js";
import { log } from "./log.js";

export function announceReady(config: Config, port: number, workers: number): void {
  const processes = workers > 1 ? ` (${workers} worker processes)` : "";
  log.info(
    { port, workers },
    `GraphQL ledger ready at http://localhost:${port}/graphql (subscriptions: ws://localhost:${port}/graphql)${processes}`,
  );
  if (config.graphiql) log.info(`GraphiQL: http://localhost:${port}/graphiql/`);
  if (config.dashboard) log.info(`Example dashboard: http://localhost:${port}/dashboard/`);
  if (config.graphiql && !config.introspection)
    log.warn("GraphiQL is served but introspection is off: it cannot show the schema (LEDGER_INTROSPECTION)");
}
