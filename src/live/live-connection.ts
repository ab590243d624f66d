// What a WebSocket connection lets its subscriptions queue: a bounded number of live events.
// A consumer that falls further behind is cut off (close code 4029) instead of growing memory;
// it resumes with afterVersion.

export const slowConsumerCloseCode = 4029;

export interface LiveConnection {
  readonly eventsQueuedMax: number;
  /** Adjusts the number of events queued on this connection; over the maximum, overflows. */
  queued(delta: number): void;
  /** Cuts the connection off as a slow consumer (once). */
  overflow(): void;
  /** Events queued now (for tests and metrics). */
  readonly eventsQueued: number;
}

export function createLiveConnection(eventsQueuedMax: number, onOverflow: () => void): LiveConnection {
  let eventsQueued = 0;
  let overflowed = false;
  const connection: LiveConnection = {
    eventsQueuedMax,
    get eventsQueued() {
      return eventsQueued;
    },
    queued(delta) {
      eventsQueued += delta;
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
