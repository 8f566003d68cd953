import { ErrorCode, GatewayError } from "../errors.ts";

interface Waiter<T> {
  resolve: (item: T) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * A fixed set of reusable items (context sequences) handed out one caller at a time. `acquire()` waits
 * in first-come order when all are taken; `release()` resets the item (clears the sequence's KV state,
 * so that one conversation never sees another's tokens) before the next caller gets it.
 *
 * A free item with the lowest position is always handed out first, so the busy sequences keep
 * consecutive ids: llama.cpp packs a batch into one micro-batch only across consecutive sequence ids.
 */
export class SequencePool<T> {
  /** How many items the pool owns. */
  readonly size: number;
  private readonly items: readonly T[];
  /** Free items in their original order. */
  private readonly idle: T[];
  private readonly waiters: Waiter<T>[] = [];
  private closed = false;

  /**
   * @param items every item the pool owns, all idle at first
   * @param reset makes an item clean for its next user; a failure is reported by `onResetError` and the
   *   item is still handed out (a stale KV cache only costs a re-evaluation, it cannot leak text, since
   *   every generation sets its full chat history)
   */
  constructor(
    items: readonly T[],
    private readonly reset: (item: T) => Promise<void>,
    private readonly onResetError: (error: unknown) => void = () => {},
  ) {
    this.items = [...items];
    this.idle = [...items];
    this.size = items.length;
  }

  /** Items free right now. */
  get available(): number {
    return this.idle.length;
  }

  /** Callers waiting for an item. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Takes a free item, or waits for one.
   * @throws GatewayError `cancelled` when the signal aborts while waiting, `model_unavailable` after close()
   */
  acquire(signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(cancelledError());
    const item = this.idle.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(cancelledError());
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Resets the item, then gives it to the longest waiting caller or puts it back. */
  async release(item: T): Promise<void> {
    try {
      await this.reset(item);
    } catch (error) {
      this.onResetError(error);
    }
    const waiter = this.waiters.shift();
    if (waiter === undefined) {
      const position = this.items.indexOf(item);
      const before = this.idle.findIndex((other) => this.items.indexOf(other) > position);
      this.idle.splice(before < 0 ? this.idle.length : before, 0, item);
      return;
    }
    waiter.signal?.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(item);
  }

  /** Refuses new acquisitions and fails every waiting caller. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.reject(closedError());
    }
  }
}

const cancelledError = () =>
  new GatewayError(ErrorCode.Cancelled, "generation cancelled while waiting for a free sequence");
const closedError = () =>
  new GatewayError(ErrorCode.ModelUnavailable, "the engine is closed; restart the worker to load the model");
