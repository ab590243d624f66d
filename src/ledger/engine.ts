// The service's side of the write engine (prisma/sql/engine.sql): commands made from requests the
// domain core has validated, sent through the group-commit queue (src/db/write-queue.ts), and the
// engine's answers turned into records and problems. Every writing mutation comes through here,
// so every one shares one idempotency mechanism and one stored-outcome shape.
import type { Database } from "../db/client.js";
import type { EngineAnswer, QueuedCommand } from "../db/write-queue.js";
import { assert } from "../domain/assert.js";
import { parseInstant } from "../domain/instant.js";
import { requestHash } from "../domain/canonical.js";
import type { Metadata } from "../domain/fields.js";
import type { Leg } from "../domain/transfer.js";
import type { Problem } from "../domain/problems.js";
import type { Account, Currency, Entry, Hold, Transfer, TransferWithEntries } from "./records.js";
import { readAccounts, readCurrencies, readEntriesOfHolds, readEntriesOfTransfers, readHolds, readTransfers } from "./reads.js";
import {
  accountFromRow,
  currencyFromRow,
  entriesFromEngine,
  holdFromRow,
  type AccountRow,
  type CurrencyRow,
  type HoldRow,
} from "./rows.js";
import { publicProblem, type ItemError } from "./engine-problems.js";

export type Operation =
  | "postTransfer"
  | "createHold"
  | "captureHold"
  | "voidHold"
  | "reverseTransfer"
  | "createAccount"
  | "updateAccount"
  | "createCurrency";

/** A command of the engine: what the operation needs, its tenant, key and request fingerprint. */
export interface Command extends QueuedCommand {
  op: Operation;
  tenant: string;
  key: string;
  hash: string;
}

/**
 * A command for `operation`. `fingerprint` is the validated request that the key's stored outcome
 * answers for: the same key with another fingerprint is an IdempotencyConflict.
 */
export function command(
  operation: Operation,
  tenantId: string,
  key: string,
  fingerprint: unknown,
  fields: Record<string, unknown>,
): Command {
  return { op: operation, tenant: tenantId, key, hash: requestHash(operation, fingerprint), ...fields };
}

/** Legs as the engine takes them: the account by id or code, amounts as decimal strings. */
export const legsOf = (legs: Leg[]) =>
  legs.map((leg) => ({ ...leg.account, direction: leg.direction, amount: leg.amountMinor.toString(), currency: leg.currency }));

/**
 * The description, metadata and external reference the engine stores with a transfer or hold (an
 * absent reference is left out of the command: the engine reads it as none, or for a capture as
 * its hold's).
 */
export const notesOf = (notes: { description: string; metadata: Metadata; externalRef?: string }) => ({
  description: notes.description,
  metadata: notes.metadata,
  externalRef: notes.externalRef,
});

/** What one command did, as records; absent where it made or changed no such thing. */
export interface Done {
  replay: boolean;
  transfer: TransferWithEntries | null;
  hold: Hold | null;
  /** The entries the command wrote (a void's releases, a hold's reservations, a transfer's legs). */
  entries: Entry[];
  account: Account | null;
  currency: Currency | null;
}

export type Outcome = { ok: true; done: Done } | { ok: false; replay: boolean; problem: Problem };

interface Written extends EngineAnswer {
  transferId: string | null;
  holdId: string | null;
  accountId: string | null;
  currencyId: string | null;
  seq: string | null;
  at: string | null;
  object: Record<string, unknown> | null;
  entries: string | null;
  error?: ItemError;
}

/**
 * Runs the commands (atomic: all or none) and answers each. A new write is answered from what the
 * engine wrote; a replay from what its key stored, read back (it committed before).
 */
export async function execute(db: Database, commands: Command[], atomic: boolean): Promise<Outcome[]> {
  const answers = (await db.writes.submit(commands, atomic)) as Written[];
  return Promise.all(answers.map((answer, index) => outcomeOf(db, commands[index]!, answer)));
}

async function outcomeOf(db: Database, command: Command, answer: Written): Promise<Outcome> {
  if (!answer.ok) return { ok: false, replay: answer.replay, problem: publicProblem(answer.error!) };
  if (answer.replay) return { ok: true, done: await readDone(db, command, answer) };
  const createdAt = answer.at === null ? null : parseInstant(answer.at);
  const entries =
    answer.entries === null
      ? []
      : entriesFromEngine(answer.entries, {
          tenantId: command.tenant,
          transferId: answer.transferId,
          holdId: answer.holdId,
          createdAt: createdAt!,
        });
  const object = answer.object;
  const hold = answer.holdId !== null && object ? holdFromRow(object as unknown as HoldRow) : null;
  const transfer =
    answer.transferId === null
      ? null
      : {
          id: answer.transferId,
          seq: BigInt(answer.seq!),
          tenantId: command.tenant,
          idempotencyKey: command.key,
          description: (command.description as string | undefined) ?? "",
          metadata: (command.metadata as Metadata | undefined) ?? {},
          createdAt: createdAt!,
          reversesId: (command.transferId as string | undefined) ?? null,
          forced: (command.force as boolean | undefined) ?? false,
          holdId: command.op === "captureHold" ? answer.holdId : null,
          // As the engine stored it: a capture that gave none has its hold's.
          externalRef: (command.externalRef as string | undefined) ?? (command.op === "captureHold" ? (hold?.externalRef ?? null) : null),
          entries,
        };
  return {
    ok: true,
    done: {
      replay: false,
      transfer,
      hold,
      entries,
      account: answer.accountId !== null && object ? accountFromRow(object as unknown as AccountRow) : null,
      currency: answer.currencyId !== null && object ? currencyFromRow(object as unknown as CurrencyRow) : null,
    },
  };
}

/** A replay's records, read back: the transfer with its entries, the hold with the entries its operation wrote. */
async function readDone(db: Database, command: Command, answer: Written): Promise<Done> {
  const tenantId = command.tenant;
  const [transfers, transferEntries, holds, accounts, currencies] = await Promise.all([
    answer.transferId ? readTransfers(db, tenantId, [answer.transferId]) : [],
    answer.transferId ? readEntriesOfTransfers(db, tenantId, [answer.transferId]) : [],
    answer.holdId ? readHolds(db, tenantId, [answer.holdId]) : [],
    answer.accountId ? readAccounts(db, tenantId, [answer.accountId]) : [],
    answer.currencyId ? readCurrencies(db, tenantId, [answer.currencyId]) : [],
  ]);
  const transfer: TransferWithEntries | null = transfers[0] ? { ...(transfers[0] as Transfer), entries: transferEntries } : null;
  assert(!answer.transferId || transfer, "a stored transfer exists");
  const hold = holds[0] ?? null;
  let entries = transferEntries;
  if (!transfer && hold) {
    // A hold's creation answers with its reservations, a void with its releases.
    entries = await readEntriesOfHolds(db, tenantId, [hold.id], command.op === "voidHold" ? "RELEASE" : "HOLD");
  }
  return { replay: true, transfer, hold, entries, account: accounts[0] ?? null, currency: currencies[0] ?? null };
}
