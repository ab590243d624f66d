// Model-based property test: random sequences of transfers, holds, partial captures, voids,
// reversals, idempotent replays, clock advances and expiry-job runs, run against both the
// in-memory reference model (test/support/ledger-model.ts) and the GraphQL API. Outcomes,
// balances and hold states must agree, and the ledger invariants must hold after every step.
//
// Time: each run freezes its tenant's clock at a whole second and moves it only with
// advanceClock, so every timestamp the database takes is exact (no sub-millisecond drift of a
// running clock). Holds get expiresInSeconds, so expires_at = frozen now + whole seconds: the
// model knows each expiry to the microsecond (checked against holds.expires_at), and clock
// advances may land exactly on an expiry instant, one millisecond before or after it.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advanceClock, freezeClock, runExpiryJob, tenantNow } from "./support/clock.js";
import { checkInvariants } from "./support/invariants.js";
import { balanceFields, captureHoldMutation, createAccount, createHoldMutation, reverseTransferMutation, voidHoldMutation } from "./support/ledger-client.js";
import { LedgerModel, type AccountSpec, type ExpectedBalance, type Outcome } from "./support/ledger-model.js";
import { startTestService, type TestService, type TestTenant } from "./support/service.js";

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service.stop();
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
  | { t: "expiryJob" };

const accountPair = fc
  .tuple(fc.integer({ min: 0, max: ACCOUNTS.length - 1 }), fc.integer({ min: 1, max: ACCOUNTS.length - 1 }))
  .map(([from, step]) => ({ from, to: (from + step) % ACCOUNTS.length }));
const amount = fc.integer({ min: 1, max: 700 });
const pick = fc.nat({ max: 50 });

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ pair: accountPair, amount }).map(({ pair, amount }): Command => ({ t: "transfer", ...pair, amount })) },
  {
    weight: 5,
    arbitrary: fc
      .record({ pair: accountPair, amount, seconds: fc.integer({ min: 1, max: 120 }) })
      .map(({ pair, amount, seconds }): Command => ({ t: "hold", ...pair, amount, seconds })),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("capture" as const), hold: pick, amount: fc.option(fc.integer({ min: 1, max: 400 }), { freq: 3 }) }) },
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
  { weight: 2, arbitrary: fc.record({ t: fc.constant("toExpiry" as const), hold: pick, offsetMs: fc.constantFrom(-1 as const, 0 as const, 1 as const) }) },
  { weight: 1, arbitrary: fc.constant({ t: "expiryJob" as const }) },
);

// ---------------------------------------------------------------- the API side

const transferMutation = `mutation($input: TransferInput!) { postTransfer(input: $input) { __typename
  ... on TransferPosted { replay transfer { id } balances { account { id } balance { ${balanceFields} } } }
  ... on Problem { code }
  ... on InsufficientFunds { accountId legIndex replay }
  ... on BalanceLimitExceeded { accountId legIndex replay } } }`;

type Operation = "transfer" | "hold" | "capture" | "void" | "reverse";
const mutations: Record<Operation, [string, string]> = {
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
  /** The API's answer to the first request. */
  answer: any;
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

  private send(op: Operation, key: string, input: Record<string, unknown>): Promise<any> {
    const [mutation, field] = mutations[op];
    return this.tenant.gql(mutation, { input: { idempotencyKey: key, ...input } }).then((data) => data[field]);
  }

  async step(command: Command): Promise<void> {
    const { model } = this;
    switch (command.t) {
      case "transfer": {
        const input = { from: { id: this.accountIds[command.from] }, to: { id: this.accountIds[command.to] }, amount: String(command.amount), currency: "USD" };
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
        if (this.holdIds.length === 0) return;
        const ref = command.hold % this.holdIds.length;
        const input = { holdId: this.holdIds[ref], ...(command.amount === null ? {} : { amount: String(command.amount) }) };
        return this.fresh("capture", input, () => model.capture(ref, command.amount === null ? null : BigInt(command.amount)));
      }
      case "void": {
        if (this.holdIds.length === 0) return;
        const ref = command.hold % this.holdIds.length;
        return this.fresh("void", { holdId: this.holdIds[ref] }, () => model.void(ref));
      }
      case "reverse": {
        if (this.transferIds.length === 0) return;
        const ref = command.transfer % this.transferIds.length;
        const input = { transferId: this.transferIds[ref], force: command.force, ...(command.amount === null ? {} : { amount: String(command.amount) }) };
        return this.fresh("reverse", input, () => model.reverse(ref, command.amount === null ? null : BigInt(command.amount), command.force));
      }
      case "reverseHold": {
        if (this.holdIds.length === 0) return;
        const ref = command.hold % this.holdIds.length;
        return this.fresh("reverse", { transferId: this.holdIds[ref] }, () => model.reverseHold());
      }
      case "replay": {
        if (this.sent.length === 0) return;
        const original = this.sent[command.pick % this.sent.length]!;
        const answer = await this.send(original.op, original.key, original.input);
        this.trace.push(`replay ${original.op} ${original.key} -> ${answer.__typename}`);
        this.checkAnswer(answer, original.expected, true);
        if ("transfer" in original.expected) expect(answer.transfer.id).toBe(original.answer.transfer.id);
        if ("hold" in original.expected) expect(answer.hold.id).toBe(original.answer.hold.id);
        // Balances in a replayed answer are those right after the original.
        this.checkResultBalances(answer, original.balancesAfter);
        return;
      }
      case "conflict": {
        if (this.sent.length === 0) return;
        const original = this.sent[command.pick % this.sent.length]!;
        // Another request under a used key: a different amount, or another operation.
        const input = original.op === "transfer"
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
    const answer = await this.send(op, key, input);
    this.trace.push(`${op} ${JSON.stringify(input)} -> model ${expected.code}, api ${answer.__typename}`);
    this.checkAnswer(answer, expected, false);

    if (expected.code === "TransferPosted" || expected.code === "TransferReversed" || expected.code === "HoldCaptured") {
      expect(this.transferIds.length).toBe(expected.transfer);
      this.transferIds.push(answer.transfer.id);
    }
    if (expected.code === "HoldCreated") {
      expect(this.holdIds.length).toBe(expected.hold);
      this.holdIds.push(answer.hold.id);
      const expiresAt = this.model.holds[expected.hold]!.state.expiresAt;
      expect(answer.hold.expiresAt).toBe(expiresAt.toISOString());
      // To the microsecond: the API shows milliseconds only.
      const { rows } = await service.db.pool.query("SELECT expires_at = $2::timestamptz AS exact FROM holds WHERE id = $1", [
        answer.hold.id.slice("hold_".length),
        expiresAt.toISOString(),
      ]);
      expect(rows[0].exact).toBe(true);
    }
    if ("hold" in expected) {
      expect(answer.hold.id).toBe(this.holdIds[expected.hold]);
      expect(answer.hold).toMatchObject(this.expectedHoldView(expected.hold));
    }
    if (expected.code === "HoldCaptured") expect(answer.transfer.hold.id).toBe(this.holdIds[expected.hold]);
    if (expected.code === "TransferReversed") {
      expect(answer.transfer.reverses.id).toBe(input.transferId);
      expect(answer.transfer.forced).toBe(input.force);
    }

    const balancesAfter = new Map<string, ExpectedBalance>();
    if (answer.balances) {
      for (const [index, id] of this.accountIds.entries()) balancesAfter.set(id, this.model.balance(index));
      this.checkResultBalances(answer, balancesAfter);
    }
    this.sent.push({ op, key, input, expected, answer, balancesAfter });
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
    for (const { account, balance } of answer.balances ?? []) expect(balance, `balance of ${account.id} in the result`).toEqual(expected.get(account.id));
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
  async compareState(): Promise<void> {
    const vars = Object.fromEntries(this.accountIds.map((id, i) => [`a${i}`, id]));
    const query = `query(${this.accountIds.map((_, i) => `$a${i}: ID!`).join(", ")}) {
      ${this.accountIds.map((_, i) => `a${i}: account(id: $a${i}) { balance { ${balanceFields} } }`).join("\n")} }`;
    const data = await this.tenant.gql(query, vars);
    this.accountIds.forEach((_, i) => expect(data[`a${i}`].balance, `balance of ${ACCOUNTS[i]!.name}`).toEqual(this.model.balance(i)));
  }

  async compareHolds(): Promise<void> {
    for (let start = 0; start < this.holdIds.length; start += 10) {
      const ids = this.holdIds.slice(start, start + 10);
      const query = `query(${ids.map((_, i) => `$h${i}: ID!`).join(", ")}) {
        ${ids.map((_, i) => `h${i}: hold(id: $h${i}) { status capturedAmount voidedAmount expiredAmount remainingAmount }`).join("\n")} }`;
      const data = await this.tenant.gql(query, Object.fromEntries(ids.map((id, i) => [`h${i}`, id])));
      ids.forEach((_, i) => expect(data[`h${i}`], `hold ${start + i}`).toEqual(this.expectedHoldView(start + i)));
    }
  }
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
  const now = Math.ceil((await tenantNow(service.db.pool, tenant.id)).getTime() / 1000) * 1000 + 1000;
  await freezeClock(service.db.pool, tenant.id, new Date(now));
  return new Run(tenant, accountIds, now);
}

describe("model-based property", () => {
  it("random sequences of transfers, holds, captures, voids, reversals, replays and clock moves agree with the reference model", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 10, maxLength: 25, size: "max" }), async (commands) => {
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
      { numRuns: 20 },
    );
  }, 180_000);
});
