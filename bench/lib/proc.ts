// What /proc says about processes (Linux only). CPU accounting: who used the cores during a
// measurement window, per-process utime+stime by group (service, postgres, load generator, ...)
// plus the whole machine's busy share from /proc/stat, so a figure can be read against what
// limited it; a thread's scheduler waits; a process's memory, descriptors and limits.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc counters; 100 on every mainstream Linux build. */
const ticksPerSecond = 100;

export type Classify = (pid: number, comm: string) => string;

export interface CpuSnapshot {
  atMs: number;
  /** pid -> [group, ticks] */
  processes: Map<number, { group: string; ticks: number }>;
  machine: { busy: number; all: number } | null;
}

export interface CpuUsage {
  seconds: number;
  /** group -> percent of one core (200 = two cores fully busy). */
  percentByGroup: Record<string, number>;
  /** Share of all cores that were busy (0..100), any process, this machine. */
  machineBusyPercent: number | null;
}

function readMachine(): { busy: number; all: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const all = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: all - idle, all };
  } catch {
    return null;
  }
}

export function cpuSnapshot(classify: Classify): CpuSnapshot {
  const processes = new Map<number, { group: string; ticks: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    // not Linux: no per-process figures
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    if (open < 0 || close < open) continue;
    const comm = stat.slice(open + 1, close);
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    const rest = stat.slice(close + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    if (!Number.isFinite(ticks)) continue;
    processes.set(pid, { group: classify(pid, comm), ticks });
  }
  return { atMs: performance.now(), processes, machine: readMachine() };
}

export function cpuUsage(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const seconds = (after.atMs - before.atMs) / 1000;
  const ticksByGroup: Record<string, number> = {};
  for (const [pid, { group, ticks }] of after.processes) {
    const earlier = before.processes.get(pid);
    // A process born during the window counts all of its time (it began after `before`).
    const used = earlier ? ticks - earlier.ticks : ticks;
    if (used > 0) ticksByGroup[group] = (ticksByGroup[group] ?? 0) + used;
  }
  const percentByGroup: Record<string, number> = {};
  for (const [group, ticks] of Object.entries(ticksByGroup)) {
    percentByGroup[group] = seconds > 0 ? (100 * ticks) / ticksPerSecond / seconds : 0;
  }
  let machineBusyPercent: number | null = null;
  if (before.machine && after.machine && after.machine.all > before.machine.all) {
    machineBusyPercent = (100 * (after.machine.busy - before.machine.busy)) / (after.machine.all - before.machine.all);
  }
  return { seconds, percentByGroup, machineBusyPercent };
}

/** Scheduler figures of a process's main thread: nanoseconds on a CPU and waiting for one. */
export interface ThreadSchedstat {
  atMs: number;
  runNs: number;
  waitNs: number;
}

export function mainThreadSchedstat(pid: number): ThreadSchedstat | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").trim().split(/\s+/).map(Number);
    if (!Number.isFinite(run) || !Number.isFinite(wait)) return null;
    return { atMs: performance.now(), runNs: run!, waitNs: wait! };
  } catch {
    return null;
  }
}

/** Share of wall time (0..100) the thread spent on a CPU and runnable but waiting for a CPU. */
export function schedShares(
  before: ThreadSchedstat | null,
  after: ThreadSchedstat | null,
): { runPercent: number; waitPercent: number } | null {
  if (!before || !after || after.atMs <= before.atMs) return null;
  const wallNs = (after.atMs - before.atMs) * 1e6;
  return { runPercent: (100 * (after.runNs - before.runNs)) / wallNs, waitPercent: (100 * (after.waitNs - before.waitNs)) / wallNs };
}

/** `pid` and its descendants (a cluster primary and its workers), from /proc/<pid>/task/<tid>/children. */
export function processGroup(pid: number): Set<number> {
  const found = new Set<number>();
  const visit = (p: number) => {
    if (p <= 0 || found.has(p)) return;
    found.add(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return; // gone, or not Linux
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim().split(/\s+/)) if (child) visit(Number(child));
      } catch {
        // the thread ended meanwhile
      }
    }
  };
  visit(pid);
  return found;
}

/**
 * Sorts processes into the groups the CPU tables report: the measured service (a process and its
 * descendants, set by watchService), PostgreSQL, the load generator (this process), pgbench, other.
 */
export function processClassifier(): { classify: Classify; watchService: (pid: number) => void } {
  let servicePids = new Set<number>();
  return {
    classify: (pid, comm) => {
      if (servicePids.has(pid)) return "service";
      if (pid === process.pid) return "loadgen";
      if (comm === "postgres" || comm === "postmaster") return "postgres";
      if (comm === "pgbench") return "pgbench";
      return "other";
    },
    watchService: (pid) => {
      servicePids = processGroup(pid);
    },
  };
}

function readProc(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

export function rssMb(pid: number): number | null {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readProc(`/proc/${pid}/status`) ?? "");
  return match ? Number(match[1]) / 1024 : null;
}

export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Soft limit of open files of a process (`ulimit -n`), from /proc/<pid>/limits. */
export function fdLimit(pid: number | "self"): number | null {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readProc(`/proc/${pid}/limits`) ?? "");
  return match ? (match[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match[1])) : null;
}

/** How many ephemeral ports the machine hands out (net.ipv4.ip_local_port_range). */
export function portRange(): number | null {
  const [low, high] = (readProc("/proc/sys/net/ipv4/ip_local_port_range") ?? "").trim().split(/\s+/).map(Number);
  return low && high ? high - low + 1 : null;
}
