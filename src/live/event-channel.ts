// A live stream of events pushed by the hub and pulled by graphql-js, counted against its
// connection's queue bound. return() ends it at once, even while next() waits.
import type { LiveConnection } from "./live-connection.js";

export class EventChannel<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly connection: LiveConnection,
    private readonly onClose: () => void,
    private readonly beforeEach: () => void,
  ) {}

  push(event: T): void {
    if (this.closed || this.connection.cutOff) return;
    this.queue.push(event);
    this.connection.queued(1);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.connection.cutOff) await this.return(); // ends here: nothing more leaves
      if (this.closed) return { done: true, value: undefined };
      if (this.queue.length > 0) {
        this.connection.queued(-1);
        this.beforeEach();
        return { done: false, value: this.queue.shift()! };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.connection.queued(-this.queue.length);
      this.queue.length = 0;
      this.onClose();
      const wake = this.wake;
      this.wake = null;
      wake?.();
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
