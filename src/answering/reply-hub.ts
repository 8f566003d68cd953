import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
/** Receives one stream entry: its field/value list and its id. */
export type StreamHandler = (fields: string[], entryId: string) => void;

interface Subscription {
  key: string;
  lastId: string;
  handler: StreamHandler;
}

/**
 * Reads every stream the gateway follows (answers' reply streams, conversation logs) over ONE blocking connection (XREAD over many keys), so
 * a thousand open answers cost one Redis connection, not a thousand. A new subscription interrupts the
 * current XREAD with CLIENT UNBLOCK so its first entries are not delayed by the block timeout.
 */
export class ReplyHub {
  readonly #reader: Redis;
  readonly #control: Redis;
  readonly #logger: Logger;
  readonly #subs = new Set<Subscription>();
  #readerId: string | undefined;
  #blocked = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  /** @param reader a dedicated connection created with `blocking: true`. */
  constructor(reader: Redis, control: Redis, logger: Logger) {
    this.#reader = reader;
    this.#control = control;
    this.#logger = logger.child({ component: "reply-hub" });
    reader.on("ready", () => {
      this.#readerId = undefined;
    });
  }

  /** Delivers the entries of `key` after `afterId` (exclusive) to `handler`, in order, until unsubscribed. */
  subscribe(key: string, afterId: string, handler: StreamHandler): () => void {
    const sub: Subscription = { key, lastId: afterId, handler };
    this.#subs.add(sub);
    this.#loop ??= this.#run();
    this.#interrupt();
    return () => {
      this.#subs.delete(sub);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#interrupt();
    await this.#loop;
  }

  #interrupt(): void {
    if (this.#wake) {
      this.#wake();
      this.#wake = undefined;
    }
    if (this.#blocked && this.#readerId) {
      this.#control.call("CLIENT", "UNBLOCK", this.#readerId).catch(() => undefined);
    }
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      if (this.#subs.size === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const subs = [...this.#subs];
      // Several followers of one key are rare (a reconnecting SSE); read each key once from the oldest id.
      const byKey = new Map<string, string>();
      for (const s of subs) {
        const current = byKey.get(s.key);
        if (current === undefined || compareIds(s.lastId, current) < 0) byKey.set(s.key, s.lastId);
      }
      try {
        this.#readerId ??= String(await this.#reader.call("CLIENT", "ID"));
        this.#blocked = true;
        const result = (await this.#reader.xread(
          "COUNT",
          500,
          "BLOCK",
          5000,
          "STREAMS",
          ...byKey.keys(),
          ...byKey.values(),
        )) as [string, [string, string[]][]][] | null;
        this.#blocked = false;
        if (!result) continue;
        for (const [key, entries] of result) {
          for (const s of subs) {
            if (s.key !== key || !this.#subs.has(s)) continue;
            for (const [id, fields] of entries) {
              if (compareIds(id, s.lastId) <= 0) continue;
              s.lastId = id;
              s.handler(fields, id);
            }
          }
        }
      } catch (error) {
        this.#blocked = false;
        if (this.#closed) break;
        this.#logger.warn({ err: (error as Error).message }, "reply stream read failed; retrying");
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/** Orders Redis stream ids ("ms-seq"); "0" and "0-0" sort first. */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const dm = BigInt(am) - BigInt(bm);
  if (dm !== 0n) return dm < 0n ? -1 : 1;
  const ds = BigInt(as) - BigInt(bs);
  return ds === 0n ? 0 : ds < 0n ? -1 : 1;
}
