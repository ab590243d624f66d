// What a WebSocket connection lets its subscriptions queue: a bounded number of live events.
// balanceChanged streams stop buffering when the connection has no room (they catch up from
// storage); transferPosted and holdChanged cannot, so overflowing them cuts the connection off
// (close code 4029), as does a socket that stops draining (src/graphql/ws-transport.ts). Either way
// memory stays bounded, and the client resumes with afterVersion.

export const slowConsumerCloseCode = 4029;

export interface LiveConnection {
  readonly eventsQueuedMax: number;
  /** Whether one more event fits. */
  hasRoom(): boolean;
  /** Adjusts the number of events queued on this connection; over the maximum, overflows. */
  queued(delta: number): void;
  /** Cuts the connection off as a slow consumer (once). */
  overflow(): void;
  /** True once cut off: its subscriptions take no more events while the socket closes. */
  readonly cutOff: boolean;
}

/** `observe` sees the queue's depth after each change (metrics). */
export function createLiveConnection(eventsQueuedMax: number, onOverflow: () => void, observe?: (depth: number) => void): LiveConnection {
  let eventsQueued = 0;
  let overflowed = false;
  const connection: LiveConnection = {
    eventsQueuedMax,
    get cutOff() {
      return overflowed;
    },
    hasRoom: () => eventsQueued < eventsQueuedMax,
    queued(delta) {
      eventsQueued += delta;
      observe?.(eventsQueued);
      if (eventsQueued > eventsQueuedMax) connection.overflow();
    },
    overflow() {
      if (overflowed) return;
      overflowed = true;
      onOverflow();
    },
  };
  return connection;
}
