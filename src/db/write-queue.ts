// Server-side group commit: the writing requests of this process are queued and sent to the write
// engine (ledger_execute, prisma/sql/engine.sql) together, as one batch, one round trip, one
// transaction, one commit flush. No timer: a batch leaves as soon as a lane is free, so at low load
// a request goes alone (its latency is one round trip) and under load batches grow by themselves.
// A few lanes (connections) run batches side by side.
//
// The semantics are those of separate requests: each submission gets its own answers, and the
// engine runs them in order, each against the state the earlier ones left. A submission whose key
// is already in flight in another lane waits for the next batch, so two lanes never race on one
// key. A batch that fails with an error the database may not repeat (a deadlock, a serialization
// failure, a key or code inserted concurrently by another instance) is retried whole; one that
// fails otherwise (a bug a constraint caught) is split in halves and retried until the submission
// that causes it fails alone: a poison request never fails its neighbours.
import type pg from "pg";

export interface QueuedCommand {
  tenant: string;
  key?: string | null;
  [field: string]: unknown;
}

export type EngineAnswer = Record<string, unknown> & { ok: boolean; replay: boolean };

export interface WriteQueueOptions {
  /** Batches running at once (connections used). */
  lanes: number;
  /** Most commands in one batch (a larger submission goes alone). */
  commandsPerBatchMax: number;
  /** Called after every batch that committed (the change feed looks at once). */
  onCommitted?: () => void;
  /** Called for every retry of a batch, with the SQLSTATE that caused it. */
  onRetry?: (code: string) => void;
  /** Called after every batch that committed: its commands, and its time with retries. */
  onBatch?: (commands: number, seconds: number) => void;
}

/** What a deployment tunes (LEDGER_WRITE_LANES, LEDGER_WRITE_BATCH_MAX). */
export type WriteSettings = Pick<WriteQueueOptions, "lanes" | "commandsPerBatchMax">;

export const writeSettingsDefault: WriteSettings = { lanes: 2, commandsPerBatchMax: 500 };

export interface WriteQueueStats {
  batches: number;
  commands: number;
  retries: number;
  /** Submissions that failed alone after their batch was split. */
  isolated: number;
}

export interface WriteQueue {
  /** Runs `commands` (atomic: all of them or none, as one group) in the next batch. */
  submit(commands: QueuedCommand[], atomic: boolean): Promise<EngineAnswer[]>;
  stats(): WriteQueueStats;
  /** Waits for the batches in flight and the queued ones. */
  drain(): Promise<void>;
}

interface Submission {
  commands: QueuedCommand[];
  atomic: boolean;
  keys: string[];
  resolve(answers: EngineAnswer[]): void;
  reject(error: unknown): void;
}

/** Deadlocks, serialization failures and unique violations (a key or code another instance just inserted). */
const retryableCodes = new Set(["40P01", "40001", "23505"]);
export const batchAttemptsMax = 8;

const sqlstateOf = (error: unknown): string | undefined => (error as { code?: string } | null)?.code;

export function createWriteQueue(pool: pg.Pool, options: WriteQueueOptions): WriteQueue {
  const pending: Submission[] = [];
  const inFlightKeys = new Map<string, number>();
  const idle: (() => void)[] = [];
  let running = 0;
  let scheduled = false;
  const stats: WriteQueueStats = { batches: 0, commands: 0, retries: 0, isolated: 0 };

  const keysOf = (commands: QueuedCommand[]) => commands.filter((c) => c.key != null).map((c) => `${c.tenant} ${c.key}`);

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // Submissions made in the same tick join the batch; nothing waits for a timer.
    queueMicrotask(() => {
      scheduled = false;
      pump();
    });
  }

  function pump(): void {
    while (running < options.lanes && pending.length > 0) {
      const batch = takeBatch();
      if (batch.length === 0) return; // every queued key is in flight: the lanes' ends pump again
      running++;
      for (const submission of batch) for (const key of submission.keys) inFlightKeys.set(key, (inFlightKeys.get(key) ?? 0) + 1);
      void runIsolating(batch).finally(() => {
        running--;
        for (const submission of batch) {
          for (const key of submission.keys) {
            const count = inFlightKeys.get(key)! - 1;
            if (count === 0) inFlightKeys.delete(key);
            else inFlightKeys.set(key, count);
          }
        }
        if (running === 0 && pending.length === 0) for (const wake of idle.splice(0)) wake();
        pump();
      });
    }
  }

  /** The oldest submissions that fit, leaving those whose key another lane has in flight. */
  function takeBatch(): Submission[] {
    const batch: Submission[] = [];
    let size = 0;
    for (let index = 0; index < pending.length; ) {
      const submission = pending[index]!;
      const fits = batch.length === 0 || size + submission.commands.length <= options.commandsPerBatchMax;
      if (!fits) break;
      if (submission.keys.some((key) => inFlightKeys.has(key))) {
        index++;
        continue;
      }
      pending.splice(index, 1);
      batch.push(submission);
      size += submission.commands.length;
    }
    return batch;
  }

  async function runIsolating(batch: Submission[], split = false): Promise<void> {
    try {
      const answers = await runWithRetries(batch);
      let offset = 0;
      for (const submission of batch) {
        submission.resolve(answers.slice(offset, offset + submission.commands.length));
        offset += submission.commands.length;
      }
    } catch (error) {
      if (batch.length === 1) {
        if (split) stats.isolated++;
        batch[0]!.reject(error);
        return;
      }
      // Halves, one after the other, until the submission that fails does so alone.
      const middle = Math.ceil(batch.length / 2);
      await runIsolating(batch.slice(0, middle), true);
      await runIsolating(batch.slice(middle), true);
    }
  }

  async function runWithRetries(batch: Submission[]): Promise<EngineAnswer[]> {
    const commands: QueuedCommand[] = [];
    let group = 0;
    for (const submission of batch) {
      group++;
      for (const command of submission.commands) commands.push(submission.atomic ? { ...command, group } : command);
    }
    const text = JSON.stringify(commands);
    const startedAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await pool.query<{ answers: EngineAnswer[] }>("SELECT ledger_execute($1::jsonb) AS answers", [text]);
        stats.batches++;
        stats.commands += commands.length;
        options.onCommitted?.();
        options.onBatch?.(commands.length, (performance.now() - startedAt) / 1000);
        const answers = rows[0]!.answers;
        if (answers.length !== commands.length) throw new Error(`ledger_execute answered ${answers.length} of ${commands.length} commands`);
        return answers;
      } catch (error) {
        const code = sqlstateOf(error);
        if (code === undefined || !retryableCodes.has(code) || attempt >= batchAttemptsMax) throw error;
        stats.retries++;
        options.onRetry?.(code);
        // Jittered backoff so the same transactions do not collide again in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));
      }
    }
  }

  return {
    submit(commands, atomic) {
      return new Promise<EngineAnswer[]>((resolve, reject) => {
        pending.push({ commands, atomic, keys: keysOf(commands), resolve, reject });
        schedule();
      });
    },
    stats: () => ({ ...stats }),
    drain() {
      if (running === 0 && pending.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
