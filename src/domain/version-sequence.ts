// Gap-free, duplicate-free delivery of one account's changes to one subscriber.
//
// Versions of an account grow by one per entry and commit in order (each change holds the
// account's row lock until it commits), so "every change after version v" is always a prefix
// that storage can answer. The live feed only speeds things up: an event that continues the
// run the subscriber is about to receive is buffered; anything else (a replay still running,
// a gap) just raises `known`, and the subscriber reads the missing versions from storage.
// So the buffer only ever holds a contiguous run, and its length measures how far a consumer
// has fallen behind the live stream.
import { assert } from "./assert.js";

export interface Versioned {
  version: bigint;
}

export interface VersionSequence<E extends Versioned> {
  /** The newest version handed to the subscriber. */
  delivered: bigint;
  /** The newest version known to be committed. */
  known: bigint;
  /** Events delivered + 1, delivered + 2, ... waiting to be handed over. */
  buffer: E[];
  /**
   * The version current when the subscription started: everything up to it is catch-up and says
   * replayed, even when the feed (running behind) offers it before storage is read.
   */
  catchUpThrough: bigint;
}

export type Offer = "buffered" | "duplicate" | "deferred";

export type Step<E> = { kind: "deliver"; event: E; replayed: boolean } | { kind: "fetch"; afterVersion: bigint } | { kind: "idle" };

export function startSequence<E extends Versioned>(afterVersion: bigint, currentVersion: bigint): VersionSequence<E> {
  assert(afterVersion >= 0n && afterVersion <= currentVersion, "a sequence starts at or before the current version");
  return { delivered: afterVersion, known: currentVersion, buffer: [], catchUpThrough: currentVersion };
}

const tail = (sequence: VersionSequence<Versioned>): bigint => sequence.delivered + BigInt(sequence.buffer.length);

/**
 * A live event: buffered when it continues the run and there is room, else only remembered as
 * existing (storage supplies it when its turn comes).
 */
export function offer<E extends Versioned>(sequence: VersionSequence<E>, event: E, room = true): Offer {
  if (event.version <= tail(sequence)) return "duplicate";
  if (event.version > sequence.known) sequence.known = event.version;
  if (event.version !== tail(sequence) + 1n || !room) return "deferred";
  sequence.buffer.push(event);
  return "buffered";
}

/** What to do next: hand over the next buffered event, read from storage, or wait. */
export function nextStep<E extends Versioned>(sequence: VersionSequence<E>): Step<E> {
  const event = sequence.buffer.shift();
  if (event) {
    assert(event.version === sequence.delivered + 1n, "buffered events are contiguous");
    sequence.delivered = event.version;
    return { kind: "deliver", event, replayed: event.version <= sequence.catchUpThrough };
  }
  if (sequence.known > sequence.delivered) return { kind: "fetch", afterVersion: sequence.delivered };
  return { kind: "idle" };
}

/**
 * Events read from storage after `afterVersion` (oldest first, at most a page). Returns those to
 * hand over now; events buffered meanwhile that they cover are dropped.
 */
export function acceptFetched<E extends Versioned>(sequence: VersionSequence<E>, afterVersion: bigint, events: E[]): E[] {
  // Another step may have delivered part of the page meanwhile; skip what it did.
  const fresh = events.filter((event) => event.version > sequence.delivered);
  assert(afterVersion <= sequence.delivered, "fetches never run ahead of delivery");
  fresh.forEach((event, index) => {
    assert(event.version === sequence.delivered + 1n + BigInt(index), "stored versions are contiguous");
  });
  if (fresh.length === 0) {
    assert(events.length > 0 || sequence.known <= sequence.delivered, "a known version is in storage");
    return [];
  }
  sequence.delivered = fresh.at(-1)!.version;
  if (sequence.delivered > sequence.known) sequence.known = sequence.delivered;
  while (sequence.buffer.length > 0 && sequence.buffer[0]!.version <= sequence.delivered) sequence.buffer.shift();
  return fresh;
}
