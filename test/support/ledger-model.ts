// An in-memory reference model of the ledger's write path, for the model-based property test
// (test/ledger/model.test.ts). Pure and synchronous, bigint money. It decides outcomes itself with the
// rules the contract states (schema.graphql, prisma/migrations/*_holds_write_path): bounds
// against the available balance, holds expiring at expiresAt, expired holds released lazily by
// any write that locks one of their accounts (or by the job), reversals never exceeding.
// Only the hold life-cycle rule (settleHold) and the balance arithmetic come from src/domain.
import { pendingDown, postedBalance, type Side, type Totals } from "../../src/domain/balance.js";
import { pendingUp } from "./bounds.js";
import { settleHold, viewHold, type HoldState, type HoldView } from "../../src/domain/hold.js";

/** Every model account is CREDIT-normal, like the accounts the test creates. */
const NORMAL: Side = "CREDIT";

export interface AccountSpec {
  name: string;
  minBalance: bigint | null;
  maxBalance: bigint | null;
}

export interface ModelAccount extends AccountSpec, Totals {
  version: bigint;
}

export interface ModelHold {
  /** Index in model.holds, which the test maps to the API's id. */
  ref: number;
  from: number;
  to: number;
  /** As stored: OPEN until captured in full, voided or released as EXPIRED. */
  state: HoldState;
}

export interface ModelLeg {
  account: number;
  direction: Side;
  amount: bigint;
}

export interface ModelTransfer {
  ref: number;
  kind: "transfer" | "capture" | "reversal";
  legs: ModelLeg[];
  /** What reversals of it have taken back so far (its first leg's amount at most). */
  reversed: bigint;
}

/** The expected answer: a success type or a problem code, and what it produced. */
export type Outcome =
  | { code: "TransferPosted"; transfer: number }
  | { code: "HoldCreated"; hold: number }
  | { code: "HoldCaptured"; hold: number; transfer: number }
  | { code: "HoldVoided"; hold: number }
  | { code: "TransferReversed"; transfer: number }
  | { code: "InsufficientFunds" | "BalanceLimitExceeded"; legIndex: number; account: number }
  | { code: "HoldExpired" | "HoldNotOpen" | "CaptureExceedsRemaining" | "ReversalExceedsRemaining" }
  | { code: "NotReversible"; reason: "REVERSAL" | "HOLD" };

export interface ExpectedBalance {
  posted: string;
  pending: string;
  available: string;
  debitsPosted: string;
  creditsPosted: string;
  debitsPending: string;
  creditsPending: string;
  version: string;
}

export class LedgerModel {
  readonly accounts: ModelAccount[];
  readonly holds: ModelHold[] = [];
  readonly transfers: ModelTransfer[] = [];

  constructor(
    specs: AccountSpec[],
    public now: number,
  ) {
    this.accounts = specs.map((spec) => ({
      ...spec,
      debitsPosted: 0n,
      creditsPosted: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
      version: 0n,
    }));
  }

  // ---------------------------------------------------------------- reading

  balance(account: number): ExpectedBalance {
    const a = this.accounts[account]!;
    const posted = postedBalance(NORMAL, a);
    return {
      posted: String(posted),
      pending: String(a.creditsPending - a.debitsPending),
      available: String(posted - pendingDown(NORMAL, a)),
      debitsPosted: String(a.debitsPosted),
      creditsPosted: String(a.creditsPosted),
      debitsPending: String(a.debitsPending),
      creditsPending: String(a.creditsPending),
      version: String(a.version),
    };
  }

  viewHold(hold: number): HoldView {
    return viewHold(this.holds[hold]!.state, new Date(this.now));
  }

  /** Open holds past their expiry that no write or job has released yet. */
  lapsedHolds(): ModelHold[] {
    return this.holds.filter((h) => h.state.status === "OPEN" && this.now >= h.state.expiresAt.getTime());
  }

  // ---------------------------------------------------------------- commands

  advance(ms: number): void {
    this.now += ms;
  }

  /**
   * A release the expiry job made of this hold on its own: the job is global, so another test
   * file's run may release this tenant's lapsed holds at any moment.
   */
  expiredElsewhere(index: number): void {
    const hold = this.holds[index]!;
    if (this.lapsedHolds().includes(hold)) this.release(hold, "EXPIRED");
  }

  /** The expiry job: releases every lapsed hold; returns how many. */
  expireHolds(): number {
    const lapsed = this.lapsedHolds();
    for (const hold of lapsed) this.release(hold, "EXPIRED");
    return lapsed.length;
  }

  transfer(from: number, to: number, amount: bigint): Outcome {
    this.lock([from, to]);
    return this.post(
      "transfer",
      [
        { account: from, direction: "DEBIT", amount },
        { account: to, direction: "CREDIT", amount },
      ],
      false,
    );
  }

  createHold(from: number, to: number, amount: bigint, expiresInSeconds: number): Outcome {
    this.lock([from, to]);
    const rejection = this.rejectLegs(
      [
        { account: from, direction: "DEBIT", amount },
        { account: to, direction: "CREDIT", amount },
      ],
      false,
    );
    if (rejection) return rejection;
    this.entry(from, "DEBIT", 0n, amount);
    this.entry(to, "CREDIT", 0n, amount);
    const ref = this.holds.length;
    this.holds.push({
      ref,
      from,
      to,
      state: { status: "OPEN", amount, capturedAmount: 0n, releasedAmount: 0n, expiresAt: new Date(this.now + expiresInSeconds * 1000) },
    });
    return { code: "HoldCreated", hold: ref };
  }

  /** amount null: all that remains. */
  capture(ref: number, amount: bigint | null): Outcome {
    const hold = this.holds[ref]!;
    this.lock([hold.from, hold.to]);
    const decision = settleHold(hold.state, { kind: "capture", amountMinor: amount }, 2, new Date(this.now));
    if (!decision.ok) return { code: decision.code as "HoldExpired" | "HoldNotOpen" | "CaptureExceedsRemaining" };
    assert(decision.kind === "capture");
    const captured = decision.amountMinor;
    hold.state = decision.next;
    // Pending to posted on both legs.
    this.entry(hold.from, "DEBIT", captured, -captured);
    this.entry(hold.to, "CREDIT", captured, -captured);
    const transfer = this.addTransfer("capture", [
      { account: hold.from, direction: "DEBIT", amount: captured },
      { account: hold.to, direction: "CREDIT", amount: captured },
    ]);
    return { code: "HoldCaptured", hold: ref, transfer };
  }

  void(ref: number): Outcome {
    const hold = this.holds[ref]!;
    this.lock([hold.from, hold.to]);
    const decision = settleHold(hold.state, { kind: "void" }, 2, new Date(this.now));
    if (!decision.ok) return { code: decision.code as "HoldExpired" | "HoldNotOpen" };
    this.release(hold, "VOIDED");
    return { code: "HoldVoided", hold: ref };
  }

  /** amount null: all that remains of it. */
  reverse(ref: number, amount: bigint | null, force: boolean): Outcome {
    const original = this.transfers[ref]!;
    // Refused before any lock is taken.
    if (original.kind === "reversal") return { code: "NotReversible", reason: "REVERSAL" };
    this.lock(original.legs.map((leg) => leg.account));
    const remaining = original.legs[0]!.amount - original.reversed;
    const requested = amount ?? remaining;
    if (remaining === 0n || requested > remaining) return { code: "ReversalExceedsRemaining" };
    const legs = original.legs.map(
      (leg): ModelLeg => ({
        account: leg.account,
        direction: leg.direction === "DEBIT" ? "CREDIT" : "DEBIT",
        amount: requested,
      }),
    );
    const outcome = this.post("reversal", legs, force);
    if (outcome.code !== "TransferPosted") return outcome;
    original.reversed += requested;
    return { code: "TransferReversed", transfer: outcome.transfer };
  }

  /** Holds are voided, never reversed. */
  reverseHold(): Outcome {
    return { code: "NotReversible", reason: "HOLD" };
  }

  // ---------------------------------------------------------------- the rules

  /** Locking accounts releases the lapsed holds with a leg on any of them. */
  private lock(accounts: number[]): void {
    for (const hold of this.lapsedHolds()) {
      if (accounts.includes(hold.from) || accounts.includes(hold.to)) this.release(hold, "EXPIRED");
    }
  }

  private release(hold: ModelHold, status: "VOIDED" | "EXPIRED"): void {
    const remaining = hold.state.amount - hold.state.capturedAmount;
    this.entry(hold.from, "DEBIT", 0n, -remaining);
    this.entry(hold.to, "CREDIT", 0n, -remaining);
    hold.state = { ...hold.state, status, releasedAmount: remaining };
  }

  /** The first leg that would break a bound (checked leg by leg, in order), if any. */
  private rejectLegs(legs: ModelLeg[], force: boolean): Outcome | null {
    if (force) return null;
    for (const [legIndex, leg] of legs.entries()) {
      const a = this.accounts[leg.account]!;
      const posted = postedBalance(NORMAL, a);
      if (leg.direction !== NORMAL) {
        // Lowers the balance: the available balance after it must stay at or above the minimum.
        if (a.minBalance !== null && posted - pendingDown(NORMAL, a) - leg.amount < a.minBalance)
          return { code: "InsufficientFunds", legIndex, account: leg.account };
      } else if (a.maxBalance !== null && posted + pendingUp(NORMAL, a) + leg.amount > a.maxBalance) {
        return { code: "BalanceLimitExceeded", legIndex, account: leg.account };
      }
    }
    return null;
  }

  private post(kind: "transfer" | "reversal", legs: ModelLeg[], force: boolean): Outcome {
    const rejection = this.rejectLegs(legs, force);
    if (rejection) return rejection;
    for (const leg of legs) this.entry(leg.account, leg.direction, leg.amount, 0n);
    return { code: "TransferPosted", transfer: this.addTransfer(kind, legs) };
  }

  private addTransfer(kind: ModelTransfer["kind"], legs: ModelLeg[]): number {
    const ref = this.transfers.length;
    this.transfers.push({ ref, kind, legs, reversed: 0n });
    return ref;
  }

  /** One entry: moves the posted and pending totals on one side and bumps the version. */
  private entry(account: number, side: Side, postedDelta: bigint, pendingDelta: bigint): void {
    const a = this.accounts[account]!;
    if (side === "DEBIT") {
      a.debitsPosted += postedDelta;
      a.debitsPending += pendingDelta;
    } else {
      a.creditsPosted += postedDelta;
      a.creditsPending += pendingDelta;
    }
    assert(a.debitsPending >= 0n && a.creditsPending >= 0n);
    a.version += 1n;
  }
}

function assert(condition: boolean): asserts condition {
  if (!condition) throw new Error("ledger model: internal inconsistency");
}
