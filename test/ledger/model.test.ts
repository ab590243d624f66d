// Model-based property test: random sequences of transfers, holds, partial captures, voids,
// reversals, idempotent replays, clock advances and expiry-job runs, run against both the
// in-memory reference model (test/support/ledger-model.ts) and the GraphQL API. Outcomes,
// balances and hold states must agree, and the ledger invariants must hold after every step.
//
// Some steps are chunks of writes sent at once through the group-commit queue (the service's
// functions on a database handle with one lane, so the queue keeps the order they were sent in):
// they commit in one batch, replays and conflicts of keys used earlier in the same chunk
// included, and must give exactly what the model gives running them one after the other.
//
// Time: each run freezes its tenant's clock at a whole second and moves it only with
// advanceClock, so every timestamp the database takes is exact (no sub-millisecond drift of a
// running clock). Holds get expiresInSeconds, so expires_at = frozen now + whole seconds: the
// model knows each expiry to the microsecond (checked against holds.expires_at), and clock
// advances may land exactly on an expiry instant, one millisecond before or after it.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { connectDatabase, type Database } from "../../src/db/client.js";
import { availableBalance, pendingBalance, postedBalance, type Totals } from "../../src/domain/balance.js";
import { viewHold } from "../../src/domain/hold.js";
import { toGlobalId } from "../../src/domain/ids.js";
import { captureHold, createHold, voidHold } from "../../src/ledger/holds.js";
import type { Entry, Hold } from "../../src/ledger/records.js";
import { reverseTransfer } from "../../src/ledger/reversals.js";
import { postTransfers } from "../../src/ledger/transfers.js";
import { advanceClock, freezeClock, runExpiryJob, tenantNow } from "../support/clock.js";
import {
  balanceFields,
  captureHoldMutation,
  createAccount,
  createHoldMutation,
  reverseTransferMutation,
  voidHoldMutation,
} from "../support/ledger-client.js";
import { LedgerModel, type AccountSpec, type ExpectedBalance, type Outcome } from "../support/ledger-model.js";
import { checkInvariants } from "../support/invariants.js";
import { apiKeyAccess, type TestTenant, useTestService } from "../support/service.js";
import { iso } from "../support/instants.js";
import type { GraphQLDocument } from "../support/graphql-document.js";

const service = useTestService();
/** The group-commit path with one lane: batches run one at a time, in the order they were sent. */
let queued: Database;

beforeAll(async () => {
  queued = connectDatabase(inject("databaseUrl"), 8, { lanes: 1, commandsPerBatchMax: 500 });
});

afterAll(async () => {
  await queued.close();
});

const ACCOUNTS: AccountSpec[] = [
  { name: "funding", minBalance: null, maxBalance: null },
  { name: "alice", minBalance: 0n, maxBalance: null },
  { name: "bob", minBalance: 0n, maxBalance: null },
  { name: "capped", minBalance: 0n, maxBalance: 1200n },
];

// ---------------------------------------------------------------- commands

type Command =
  | { t: "transfer"; from: number; to: number; amount: number }
  | { t: "hold"; from: number; to: number; amount: number; seconds: number }
  | { t: "capture"; hold: number; amount: number | null }
  | { t: "void"; hold: number }
  | { t: "reverse"; transfer: number; amount: number | null; force: boolean }
  | { t: "reverseHold"; hold: number }
  | { t: "replay"; pick: number }
  | { t: "conflict"; pick: number }
  | { t: "advance"; ms: number }
  | { t: "toExpiry"; hold: number; offsetMs: -1 | 0 | 1 }
  | { t: "expiryJob" }
  | { t: "concurrently"; steps: Command[] };

const accountPair = fc
  .tuple(fc.integer({ min: 0, max: ACCOUNTS.length - 1 }), fc.integer({ min: 1, max: ACCOUNTS.length - 1 }))
  .map(([from, step]) => ({ from, to: (from + step) % ACCOUNTS.length }));
const amount = fc.integer({ min: 1, max: 700 });
const pick = fc.nat({ max: 50 });

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ pair: accountPair, amount }).map(({ pair, amount }): Command => ({ t: "transfer", ...pair, amount })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({ pair: accountPair, amount, seconds: fc.integer({ min: 1, max: 120 }) })
      .map(({ pair, amount, seconds }): Command => ({ t: "hold", ...pair, amount, seconds })),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("capture" as const),
      hold: pick,
      amount: fc.option(fc.integer({ min: 1, max: 400 }), { freq: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("void" as const), hold: pick }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("reverse" as const),
      transfer: pick,
      amount: fc.option(fc.integer({ min: 1, max: 400 }), { freq: 3 }),
      // Forced reversals (bounds skipped) are rare, so most reversals meet the bounds.
      force: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reverseHold" as const), hold: pick }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("replay" as const), pick }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("conflict" as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 90_000 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("toExpiry" as const),
      hold: pick,
      offsetMs: fc.constantFrom(-1 as const, 0 as const, 1 as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "expiryJob" as const }) },
);

/** Writes (and replays and conflicts of them) that may share one batch. */
const writeArb = commandArb.filter((c) => !["advance", "toExpiry", "expiryJob"].includes(c.t));
const stepArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: commandArb },
  { weight: 1, arbitrary: fc.array(writeArb, { minLength: 2, maxLength: 8 }).map((steps): Command => ({ t: "concurrently", steps })) },
);

// ---------------------------------------------------------------- the API side

const transferMutation = `mutation($input: TransferInput!) { postTransfer(input: $input) { __typename
  ... on TransferPosted { replay transfer { id } balances { account { id } balance { ${balanceFields} } } }
  ... on Problem { code }
  ... on InsufficientFunds { accountId legIndex replay }
  ... on BalanceLimitExceeded { accountId legIndex replay } } }`;

type Operation = "transfer" | "hold" | "capture" | "void" | "reverse";
/** Each operation's document and the field of its answer (read untyped, as the model compares it by hand). */
const mutations: Record<Operation, [GraphQLDocument<any, any>, string]> = {
  transfer: [transferMutation, "postTransfer"],
  hold: [createHoldMutation, "createHold"],
  capture: [captureHoldMutation, "captureHold"],
  void: [voidHoldMutation, "voidHold"],
  reverse: [reverseTransferMutation, "reverseTransfer"],
};

/** A command as sent, kept so it can be replayed under its key. */
interface Sent {
  op: Operation;
  key: string;
  input: Record<string, unknown>;
  expected: Outcome;
  /** The API's answer to the first request (once it came). */
  answer: Promise<any>;
  /** The model's balances of the touched accounts right after it (successes only). */
  balancesAfter: Map<string, ExpectedBalance>;
}

class Run {
  readonly model: LedgerModel;
  readonly holdIds: string[] = [];
  readonly transferIds: string[] = [];
  readonly sent: Sent[] = [];
  readonly trace: string[] = [];
  private keys = 0;

  constructor(
    readonly tenant: TestTenant,
    readonly accountIds: string[],
    now: number,
  ) {
    this.model = new LedgerModel(ACCOUNTS, now);
  }

  /** Through GraphQL, or (in a chunk) straight into the group-commit queue, in call order. */
  private send(op: Operation, key: string, input: Record<string, unknown>): Promise<any> {
    if (this.direct) return sendQueued(this.tenant.id, op, { idempotencyKey: key, ...input }, this.model.now);
    const [mutation, field] = mutations[op];
    return this.tenant.gql(mutation, { input: { idempotencyKey: key, ...input } }).then((data) => data[field]);
  }

  /** Set while a chunk's writes are being sent. */
  private direct = false;
  /**
   * Holds and transfers a chunk may act on: those made before it (the ids of what it makes are
   * known only once it has committed, so no request could name them).
   */
  private known = { holds: 0, transfers: 0 };
  private holdsKnown = () => (this.direct ? this.known.holds : this.holdIds.length);
  private transfersKnown = () => (this.direct ? this.known.transfers : this.transferIds.length);

  async step(command: Command): Promise<void> {
    const { model } = this;
    switch (command.t) {
      case "concurrently": {
        // Every write of the chunk is decided by the model and handed to the queue before any is
        // awaited: they share batches, in this order.
        this.trace.push(`concurrently (${command.steps.length}):`);
        this.direct = true;
        this.known = { holds: this.holdIds.length, transfers: this.transferIds.length };
        const running = command.steps.map((step) => this.step(step));
        this.direct = false;
        await Promise.all(running);
        return;
      }
      case "transfer": {
        const input = {
          from: { id: this.accountIds[command.from] },
          to: { id: this.accountIds[command.to] },
          amount: String(command.amount),
          currency: "USD",
        };
        return this.fresh("transfer", input, () => model.transfer(command.from, command.to, BigInt(command.amount)));
      }
      case "hold": {
        const input = {
          from: { id: this.accountIds[command.from] },
          to: { id: this.accountIds[command.to] },
          amount: String(command.amount),
          currency: "USD",
          expiresInSeconds: command.seconds,
        };
        return this.fresh("hold", input, () => model.createHold(command.from, command.to, BigInt(command.amount), command.seconds));
      }
      case "capture": {
        if (this.holdsKnown() === 0) return;
        const ref = command.hold % this.holdsKnown();
        const input = { holdId: this.holdIds[ref], ...(command.amount === null ? {} : { amount: String(command.amount) }) };
        return this.fresh("capture", input, () => model.capture(ref, command.amount === null ? null : BigInt(command.amount)));
      }
      case "void": {
        if (this.holdsKnown() === 0) return;
        const ref = command.hold % this.holdsKnown();
        return this.fresh("void", { holdId: this.holdIds[ref] }, () => model.void(ref));
      }
      case "reverse": {
        if (this.transfersKnown() === 0) return;
        const ref = command.transfer % this.transfersKnown();
        const input = {
          transferId: this.transferIds[ref],
          force: command.force,
          ...(command.amount === null ? {} : { amount: String(command.amount) }),
        };
        return this.fresh("reverse", input, () =>
          model.reverse(ref, command.amount === null ? null : BigInt(command.amount), command.force),
        );
      }
      case "reverseHold": {
        if (this.holdsKnown() === 0) return;
        const ref = command.hold % this.holdsKnown();
        return this.fresh("reverse", { transferId: this.holdIds[ref] }, () => model.reverseHold());
      }
      case "replay": {
        if (this.sent.length === 0) return;
        const original = this.sent[command.pick % this.sent.length]!;
        const answer = await this.send(original.op, original.key, original.input);
        this.trace.push(`replay ${original.op} ${original.key} -> ${answer.__typename}`);
        this.checkAnswer(answer, original.expected, true);
        const first = await original.answer;
        if ("transfer" in original.expected) expect(answer.transfer.id).toBe(first.transfer.id);
        if ("hold" in original.expected) expect(answer.hold.id).toBe(first.hold.id);
        // Balances in a replayed answer are those right after the original.
        this.checkResultBalances(answer, original.balancesAfter);
        return;
      }
      case "conflict": {
        if (this.sent.length === 0) return;
        const original = this.sent[command.pick % this.sent.length]!;
        // Another request under a used key: a different amount, or another operation.
        const input =
          original.op === "transfer"
            ? { ...original.input, amount: String(Number(original.input.amount) + 1) }
            : { from: { id: this.accountIds[0] }, to: { id: this.accountIds[1] }, amount: "1", currency: "USD" };
        const answer = await this.send("transfer", original.key, input);
        this.trace.push(`conflict on ${original.op} ${original.key} -> ${answer.__typename}`);
        expect(answer.__typename).toBe("IdempotencyConflict");
        return;
      }
      case "advance":
        return this.advance(command.ms);
      case "toExpiry": {
        if (model.holds.length === 0) return;
        const target = model.holds[command.hold % model.holds.length]!.state.expiresAt.getTime() + command.offsetMs;
        if (target > model.now) await this.advance(target - model.now);
        return;
      }
      case "expiryJob": {
        await this.adoptForeignExpiries();
        const expected = model.expireHolds();
        // The job is global: other tenants' expired holds may be released by the same call.
        const released = await runExpiryJob(service.db.pool);
        this.trace.push(`expiry job: model released ${expected}, job ${released}`);
        expect(released).toBeGreaterThanOrEqual(expected);
        return;
      }
    }
  }

  private async advance(ms: number): Promise<void> {
    this.model.advance(ms);
    const now = await advanceClock(service.db.pool, this.tenant.id, ms);
    this.trace.push(`advance ${ms} ms -> ${now.toISOString()}`);
    expect(now.getTime()).toBe(this.model.now);
  }

  /** A first request under a new key: the model decides, the API must agree. */
  private async fresh(op: Operation, input: Record<string, unknown>, decide: () => Outcome): Promise<void> {
    const key = `model-${this.tenant.id}-${++this.keys}`;
    const expected = decide();
    const balancesAfter = new Map<string, ExpectedBalance>();
    for (const [index, id] of this.accountIds.entries()) balancesAfter.set(id, this.model.balance(index));
    const holdView = "hold" in expected ? this.expectedHoldView(expected.hold) : null;
    const answered = this.send(op, key, input);
    // Known at once, so a replay or conflict later in the same chunk can use the key.
    this.sent.push({ op, key, input, expected, answer: answered, balancesAfter });
    const answer = await answered;
    this.trace.push(`${op} ${JSON.stringify(input)} -> model ${expected.code}, api ${answer.__typename}`);
    this.checkAnswer(answer, expected, false);

    // The model numbers what it makes in the order it decided; answers may come in any order.
    if (expected.code === "TransferPosted" || expected.code === "TransferReversed" || expected.code === "HoldCaptured") {
      expect(this.transferIds[expected.transfer]).toBeUndefined();
      this.transferIds[expected.transfer] = answer.transfer.id;
    }
    if (expected.code === "HoldCreated") {
      expect(this.holdIds[expected.hold]).toBeUndefined();
      this.holdIds[expected.hold] = answer.hold.id;
      const expiresAt = this.model.holds[expected.hold]!.state.expiresAt;
      expect(answer.hold.expiresAt).toBe(iso(expiresAt));
      // And as stored.
      const { rows } = await service.db.pool.query("SELECT expires_at = $2::timestamptz AS exact FROM holds WHERE id = $1", [
        answer.hold.id.slice("hold_".length),
        expiresAt.toISOString(),
      ]);
      expect(rows[0].exact).toBe(true);
    }
    if ("hold" in expected) {
      expect(answer.hold.id).toBe(this.holdIds[expected.hold]);
      expect(answer.hold).toMatchObject(holdView!);
    }
    if (expected.code === "HoldCaptured") expect(answer.transfer.hold.id).toBe(this.holdIds[expected.hold]);
    if (expected.code === "TransferReversed") {
      expect(answer.transfer.reverses.id).toBe(input.transferId);
      expect(answer.transfer.forced).toBe(input.force);
    }
    if (answer.balances) this.checkResultBalances(answer, balancesAfter);
  }

  private checkAnswer(answer: any, expected: Outcome, replay: boolean): void {
    expect(answer.__typename).toBe(expected.code);
    expect(answer.replay).toBe(replay);
    if (expected.code === "InsufficientFunds" || expected.code === "BalanceLimitExceeded") {
      expect(answer.accountId).toBe(this.accountIds[expected.account]);
      // Not every result selection asks for legIndex.
      if (answer.legIndex !== undefined) expect(answer.legIndex).toBe(expected.legIndex);
    }
    if (expected.code === "NotReversible") expect(answer.reason).toBe(expected.reason);
  }

  private checkResultBalances(answer: any, expected: Map<string, ExpectedBalance>): void {
    for (const { account, balance } of answer.balances ?? [])
      expect(balance, `balance of ${account.id} in the result`).toEqual(expected.get(account.id));
  }

  expectedHoldView(ref: number) {
    const view = this.model.viewHold(ref);
    return {
      status: view.status,
      capturedAmount: String(view.capturedAmount),
      voidedAmount: String(view.voidedAmount),
      expiredAmount: String(view.expiredAmount),
      remainingAmount: String(view.remainingAmount),
    };
  }

  /** Every account's balances and every hold's state, as the API reads them now. */
  /** Lapsed holds that another file's expiry job released (the job is global): the model takes them in. */
  private async adoptForeignExpiries(): Promise<void> {
    const lapsed = this.model.lapsedHolds();
    for (const [index, hold] of this.model.holds.entries()) {
      if (!lapsed.includes(hold) || index >= this.holdIds.length) continue;
      // The stored status: the API's view already says EXPIRED for a lapsed hold nobody released.
      const globalId = this.holdIds[index]!;
      const { rows } = await service.db.pool.query("SELECT status::text FROM holds WHERE id = $1::uuid", [
        globalId.slice(globalId.indexOf("_") + 1),
      ]);
      if (rows[0]?.status === "EXPIRED") {
        this.model.expiredElsewhere(index);
        this.trace.push(`hold ${index} released by another file's expiry job`);
      }
    }
  }

  async compareState(): Promise<void> {
    await this.adoptForeignExpiries();
    const vars = Object.fromEntries(this.accountIds.map((id, i) => [`a${i}`, id]));
    const query = `query(${this.accountIds.map((_, i) => `$a${i}: ID!`).join(", ")}) {
      ${this.accountIds.map((_, i) => `a${i}: account(id: $a${i}) { balance { ${balanceFields} } }`).join("\n")} }`;
    const data = await this.tenant.gql(query, vars);
    for (const [i] of this.accountIds.entries()) {
      expect(data[`a${i}`].balance, `balance of ${ACCOUNTS[i]!.name}`).toEqual(this.model.balance(i));
    }
  }

  async compareHolds(): Promise<void> {
    for (let start = 0; start < this.holdIds.length; start += 10) {
      const ids = this.holdIds.slice(start, start + 10);
      const query = `query(${ids.map((_, i) => `$h${i}: ID!`).join(", ")}) {
        ${ids.map((_, i) => `h${i}: hold(id: $h${i}) { status capturedAmount voidedAmount expiredAmount remainingAmount }`).join("\n")} }`;
      const data = await this.tenant.gql(query, Object.fromEntries(ids.map((id, i) => [`h${i}`, id])));
      for (const [i] of ids.entries()) {
        expect(data[`h${i}`], `hold ${start + i}`).toEqual(this.expectedHoldView(start + i));
      }
    }
  }
}

// ---------------------------------------------------------------- the group-commit side

const accountGlobalId = (id: string) => toGlobalId("Account", id);

/** An account's balances after an entry, as Balance shows them (the model's accounts are CREDIT-normal). */
function balanceAfter(entry: Entry): ExpectedBalance {
  const totals: Totals = {
    debitsPosted: entry.debitsPostedAfter,
    creditsPosted: entry.creditsPostedAfter,
    debitsPending: entry.debitsPendingAfter,
    creditsPending: entry.creditsPendingAfter,
  };
  return {
    posted: String(postedBalance("CREDIT", totals)),
    pending: String(pendingBalance("CREDIT", totals)),
    available: String(availableBalance("CREDIT", totals)),
    debitsPosted: String(totals.debitsPosted),
    creditsPosted: String(totals.creditsPosted),
    debitsPending: String(totals.debitsPending),
    creditsPending: String(totals.creditsPending),
    version: String(entry.accountVersion),
  };
}

const holdAnswer = (hold: Hold, now: number) => {
  const view = viewHold(hold, new Date(now));
  return {
    id: toGlobalId("Hold", hold.id),
    expiresAt: iso(hold.expiresAt),
    status: view.status,
    capturedAmount: String(view.capturedAmount),
    voidedAmount: String(view.voidedAmount),
    expiredAmount: String(view.expiredAmount),
    remainingAmount: String(view.remainingAmount),
  };
};

/** A write through the service's functions, answered in the shape the GraphQL results have. */
async function sendQueued(tenantId: string, op: Operation, input: Record<string, any>, now: number): Promise<any> {
  const limits = service.limits;
  const settle = { ...input, holdId: input.holdId } as Parameters<typeof captureHold>[2];
  const access = apiKeyAccess(tenantId);
  const outcome =
    op === "transfer"
      ? await postTransfers(queued, access, [input as never], true, limits).then((batch) => (batch.ok ? batch.outcomes[0]! : batch))
      : op === "hold"
        ? await createHold(queued, access, input as never, limits)
        : op === "capture"
          ? await captureHold(queued, access, settle, limits)
          : op === "void"
            ? await voidHold(queued, access, settle, limits)
            : await reverseTransfer(queued, access, input as never, limits);
  if (!outcome.ok) {
    const { problem, replay } = outcome as { problem: Record<string, unknown>; replay?: boolean };
    return { __typename: problem.code, replay: replay ?? false, ...problem };
  }
  const typename = {
    transfer: "TransferPosted",
    hold: "HoldCreated",
    capture: "HoldCaptured",
    void: "HoldVoided",
    reverse: "TransferReversed",
  }[op];
  const done = outcome as { replay: boolean; transfer?: any; hold?: Hold; entries?: Entry[] };
  const entries: Entry[] = done.transfer?.entries ?? done.entries ?? [];
  return {
    __typename: typename,
    replay: done.replay,
    ...(done.transfer
      ? {
          transfer: {
            id: toGlobalId("Transfer", done.transfer.id),
            hold: done.transfer.holdId ? { id: toGlobalId("Hold", done.transfer.holdId) } : null,
            reverses: done.transfer.reversesId ? { id: toGlobalId("Transfer", done.transfer.reversesId) } : null,
            forced: done.transfer.forced,
          },
        }
      : {}),
    ...(done.hold ? { hold: holdAnswer(done.hold, now) } : {}),
    balances: entries.map((entry) => ({ account: { id: accountGlobalId(entry.accountId) }, balance: balanceAfter(entry) })),
  };
}

async function startRun(): Promise<Run> {
  const tenant = await service.newTenant("model");
  const accountIds: string[] = [];
  for (const spec of ACCOUNTS) {
    const account = await createAccount(tenant, {
      minBalance: spec.minBalance === null ? null : String(spec.minBalance),
      maxBalance: spec.maxBalance === null ? null : String(spec.maxBalance),
    });
    accountIds.push(account.id);
  }
  // A whole second, so expiresInSeconds lands on exact milliseconds.
  const now = Math.ceil((await tenantNow(service.db, tenant.id)).getTime() / 1000) * 1000 + 1000;
  await freezeClock(service.db.pool, tenant.id, new Date(now));
  return new Run(tenant, accountIds, now);
}

describe("model-based property", () => {
  it("random sequences of transfers, holds, captures, voids, reversals, replays and clock moves agree with the reference model", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 25, size: "max" }), async (commands) => {
        const run = await startRun();
        try {
          // Start with money in the bounded accounts.
          await run.step({ t: "transfer", from: 0, to: 1, amount: 1000 });
          await run.step({ t: "transfer", from: 0, to: 2, amount: 1000 });
          for (const c of commands) {
            await run.step(c);
            await run.compareState();
            expect(await checkInvariants(service.db.pool)).toEqual([]);
          }
          await run.compareHolds();
        } catch (error) {
          (error as Error).message += `\ntrace:\n  ${run.trace.join("\n  ")}`;
          throw error;
        }
      }),
      // MODEL_SEED and MODEL_PATH (printed with a failure) replay a failing case.
      {
        numRuns: 20,
        ...(process.env.MODEL_SEED ? { seed: Number(process.env.MODEL_SEED), path: process.env.MODEL_PATH, endOnFailure: true } : {}),
      },
    );
  }, 180_000);
});
