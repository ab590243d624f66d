// Applies prisma/migrations and diffs Prisma schemas with Prisma's schema engine compiled to WASM
// (@prisma/schema-engine-wasm), because the Prisma CLI's native engine cannot be downloaded here.
// `applyMigrations` records `_prisma_migrations` exactly as `prisma migrate deploy` does, so the
// ordinary CLI can take over wherever its native engine is available.
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { projectRoot } from "../project-root.js";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
} from "@prisma/driver-adapter-utils";
import type { MigrationDirectory, MigrationList, SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm/schema_engine_bg";
import { applySqlSources } from "./sql-sources.js";

/** The repository root (this file is src/db/migrate.ts). */
export { projectRoot };
export const schemaPath = path.join(projectRoot, "prisma", "schema.prisma");
/** prisma/schema.prisma as of the newest migration; see its header. */
export const snapshotPath = path.join(projectRoot, "prisma", "schema.snapshot.prisma");
export const migrationsDir = path.join(projectRoot, "prisma", "migrations");

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

type Bindings = typeof import("@prisma/schema-engine-wasm/schema_engine_bg");
let bindingsPromise: Promise<Bindings> | undefined;

// The engine arms 10 s timers (timeouts raced against database calls) and never clears them, which
// would keep a script alive for 10 s after its work is done. Its timers are tracked here and
// cleared once no engine call is running, when nothing can be waiting for them any more.
const engineTimers = new Set<NodeJS.Timeout>();
let runningEngineCalls = 0;

async function withEngine<T>(work: (bindings: Bindings) => Promise<T>): Promise<T> {
  const bindings = await loadEngine();
  runningEngineCalls += 1;
  try {
    return await work(bindings);
  } finally {
    runningEngineCalls -= 1;
    if (runningEngineCalls === 0) {
      for (const timer of engineTimers) clearTimeout(timer);
      engineTimers.clear();
    }
  }
}

/**
 * The engine's bindings, instantiated once per process. The package's main entry imports the
 * .wasm file as an ES module, which Node 20 refuses, so the module is instantiated by hand.
 */
function loadEngine(): Promise<Bindings> {
  bindingsPromise ??= (async () => {
    const bindings = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const jsPath = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(path.join(path.dirname(jsPath), "schema_engine_bg.wasm"));
    const imports: Record<string, unknown> = { ...bindings };
    for (const name of Object.keys(imports).filter((key) => key.startsWith("__wbg_setTimeout_"))) {
      imports[name] = (callback: () => void, ms: number): NodeJS.Timeout => {
        const timer = setTimeout(() => {
          engineTimers.delete(timer);
          callback();
        }, ms >>> 0);
        engineTimers.add(timer);
        return timer;
      };
    }
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": imports as WebAssembly.ModuleImports,
    });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
    return bindings;
  })();
  bindingsPromise.catch(() => {
    bindingsPromise = undefined;
  });
  return bindingsPromise;
}

type EngineLog = { level?: string; fields?: { message?: string } };

function engineLogger(log: ((line: string) => void) | undefined): (line: string) => void {
  return (raw: string) => {
    if (!log) return;
    let entry: EngineLog;
    try {
      entry = JSON.parse(raw) as EngineLog;
    } catch {
      log(raw.trimEnd());
      return;
    }
    const message = entry.fields?.message;
    if (!message) return;
    if (entry.level === "WARN" || entry.level === "ERROR" || message.startsWith("Applying")) {
      log(message);
    }
  };
}

type PgAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;

/**
 * PrismaPg, except that executeScript sends the whole migration script as one simple-protocol
 * query, as the native engine does. PrismaPg 7.10 splits scripts on every ";", which breaks
 * `$$ ... $$` bodies (PL/pgSQL functions, DO blocks) and runs the pieces outside a transaction.
 * As one query, PostgreSQL runs the script in one implicit transaction: a failing migration leaves
 * nothing half-applied (as with `prisma migrate deploy`; CREATE INDEX CONCURRENTLY cannot be used
 * in a migration for the same reason).
 */
class WholeScriptPrismaPg implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres" as const;
  readonly adapterName: string;
  readonly #inner: PrismaPg;
  readonly #open = new Set<PgAdapter>();

  constructor(connectionString: string) {
    this.#inner = new PrismaPg({ connectionString });
    this.adapterName = this.#inner.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.#patch(await this.#inner.connect());
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.#patch(await this.#inner.connectToShadowDb());
  }

  /** Closes every pool this factory opened that the engine did not dispose of. */
  async disposeAll(): Promise<void> {
    await Promise.allSettled([...this.#open].map((adapter) => adapter.dispose()));
  }

  #patch(adapter: PgAdapter): PgAdapter {
    const mapError = (adapter as unknown as { onError(error: unknown): never }).onError.bind(adapter);
    adapter.executeScript = async (script: string): Promise<void> => {
      try {
        await adapter.underlyingDriver().query(script);
      } catch (error) {
        mapError(error); // throws the DriverAdapterError that PrismaPg throws for any other query
      }
    };
    const dispose = adapter.dispose.bind(adapter);
    let disposed: Promise<void> | undefined;
    adapter.dispose = () => {
      this.#open.delete(adapter);
      disposed ??= dispose();
      return disposed;
    };
    this.#open.add(adapter);
    return adapter;
  }
}

/** Reads a migrations folder the way the Prisma CLI does for the engine. */
export async function readMigrationsList(dir: string = migrationsDir): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrationDirectories: MigrationDirectory[] = await Promise.all(
    names.map(async (name): Promise<MigrationDirectory> => {
      const file = path.join(dir, name, "migration.sql");
      try {
        return { path: name, migrationFile: { path: "migration.sql", content: { tag: "ok", value: await readFile(file, "utf8") } } };
      } catch (error) {
        return { path: name, migrationFile: { path: "migration.sql", content: { tag: "error", value: String(error) } } };
      }
    }),
  );
  const lockfile = await readFile(path.join(dir, "migration_lock.toml"), "utf8").catch(() => null);
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: lockfile },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

/**
 * Applies every not yet applied folder of prisma/migrations (in name order) to the database, like
 * `prisma migrate deploy`, then the SQL source files of prisma/sql when they changed
 * (src/db/sql-sources.ts), and returns the names of the migrations applied by this call.
 * `options.migrationsDir` points it at another folder (tests; the SQL sources are then left out).
 */
export async function applyMigrations(
  connectionString: string,
  log?: (line: string) => void,
  options: { migrationsDir?: string } = {},
): Promise<string[]> {
  return await whileHoldingMigrationLock(connectionString, async () => {
    const applied = await applyPrismaMigrations(connectionString, log, options.migrationsDir ?? migrationsDir);
    if (options.migrationsDir === undefined) {
      const sources = await applySqlSources(connectionString);
      if (sources.length > 0) log?.(`Applied SQL sources: ${sources.join(", ")}`);
    }
    return applied;
  });
}

async function applyPrismaMigrations(connectionString: string, log: ((line: string) => void) | undefined, dir: string): Promise<string[]> {
  const migrationsList = await readMigrationsList(dir);
  return await withEngine(async (bindings) => {
    const factory = new WholeScriptPrismaPg(connectionString);
    let engine: SchemaEngine | undefined;
    try {
      engine = await bindings.SchemaEngine.new({ datamodels: undefined }, engineLogger(log), bindMigrationAwareSqlAdapterFactory(factory));
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
      return appliedMigrationNames;
    } catch (error) {
      throw new Error(`applying migrations from ${migrationsList.baseDir} failed: ${errorMessage(error)}`, { cause: error });
    } finally {
      engine?.free();
      await factory.disposeAll();
    }
  });
}

/**
 * Key of the advisory lock held around applying migrations. Not Prisma's own (72707369): the
 * engine takes that one itself, but gives up after 10 s, so a replica starting while another
 * applies a long migration would fail. Waiting here (no timeout) makes replicas that start
 * together apply the migrations once: the first applies, the others then find nothing pending.
 */
export const migrationLockKey = 72707370;

async function whileHoldingMigrationLock<T>(connectionString: string, work: () => Promise<T>): Promise<T> {
  const lock = new pg.Client({ connectionString, application_name: "ledger-migrations-lock" });
  lock.on("error", () => {}); // a lost connection surfaces in the engine's own work
  await lock.connect();
  try {
    await lock.query("SELECT pg_advisory_lock($1)", [migrationLockKey]);
    return await work();
  } finally {
    await lock.end().catch(() => {}); // ending the session releases the lock
  }
}

/**
 * Stands in for a database where the engine needs none: datamodel-to-datamodel diffs. The engine
 * still connects on construction and asks for the server version; nothing else reaches it.
 */
function offlineAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  const refuse =
    (what: string) =>
    async (query?: unknown): Promise<never> => {
      const sql = typeof query === "string" ? query : (query as SqlQuery | undefined)?.sql;
      throw new Error(`no database is available to the offline schema engine (${what}${sql ? `: ${sql}` : ""})`);
    };
  const adapter: SqlDriverAdapter = {
    provider: "postgres",
    adapterName: "offline",
    async queryRaw(query: SqlQuery): Promise<SqlResultSet> {
      if (query.sql.includes("server_version_num")) {
        return {
          columnNames: ["exists", "version", "numeric_version"],
          columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
          rows: [[true, "PostgreSQL 18.4 (offline placeholder)", 180004]],
        };
      }
      return refuse("queryRaw")(query);
    },
    executeRaw: refuse("executeRaw"),
    executeScript: refuse("executeScript"),
    startTransaction: refuse("startTransaction"),
    getConnectionInfo: () => ({ schemaName: "public", supportsRelationJoins: true }),
    dispose: async () => {},
  };
  return {
    provider: "postgres",
    adapterName: "offline",
    connect: async () => adapter,
    connectToShadowDb: async () => adapter,
  };
}

export interface SchemaSource {
  /** Shown in error messages. */
  path: string;
  content: string;
}

/**
 * The SQL migration from `from` (null: an empty database) to `to`, computed from the two Prisma
 * schemas alone (no database). `empty` is true when the schemas describe the same database.
 */
export async function diffSchemas(from: SchemaSource | null, to: SchemaSource): Promise<{ sql: string; empty: boolean }> {
  return await withEngine(async (bindings) => {
    let engine: SchemaEngine | undefined;
    try {
      engine = await bindings.SchemaEngine.new(
        { datamodels: undefined },
        () => {},
        bindMigrationAwareSqlAdapterFactory(offlineAdapterFactory()),
      );
      const result = await engine.diff({
        from: from ? { tag: "schemaDatamodel", files: [from] } : { tag: "empty" },
        to: { tag: "schemaDatamodel", files: [to] },
        script: true,
        exitCode: true, // 2 when the diff is not empty
        filters: NO_FILTERS,
      });
      return { sql: result.stdout ?? "", empty: result.exitCode === 0 };
    } catch (error) {
      throw new Error(`schema diff failed: ${errorMessage(error)}`, { cause: error });
    } finally {
      engine?.free();
    }
  });
}

/** Reads a schema file as a diff source. */
export async function schemaSource(file: string): Promise<SchemaSource> {
  return { path: file, content: await readFile(file, "utf8") };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
