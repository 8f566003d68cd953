import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import { CONVERSATION_SHARDS, type Keyspace } from "../redis/keyspace.ts";

/** Receives one stream entry: its field/value list and its id. */
export type StreamHandler = (fields: string[], entryId: string) => void;

interface Subscription {
  key: string;
  lastId: string;
  handler: StreamHandler;
  /** Live entries that arrived while the stream's backlog was being read; delivered after it. */
  pending: [string, string[]][] | undefined;
}

export interface ReplyHubOptions {
  /** Runs XRANGE (any shared client). */
  redis: Redis;
  /** A connection of its own: it enters subscriber mode. */
  subscriber: Redis;
  keys: Keyspace;
  logger: Logger;
}

/**
 * Follows the streams a gateway serves (answers' reply streams, conversation logs) without polling them.
 * Every script that appends to one of these streams also publishes the new entry on its conversation
 * shard's channel (SPUBLISH; see stream-append.ts), and the hub holds one subscription per shard for all
 * of them. A new follower first reads the stream's backlog after its position (one XRANGE), then takes
 * live entries, each once and in id order. Streams stay the record: a follower that connects late,
 * reconnects or resumes reads from any position, and when the subscriber connection drops (entries
 * published meanwhile are lost to it) every follower reads its backlog again once it is back.
 */
export class ReplyHub {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #keys: Keyspace;
  readonly #logger: Logger;
  readonly #byKey = new Map<string, Set<Subscription>>();
  #started: Promise<void> | undefined;
  #closed = false;

  constructor({ redis, subscriber, keys, logger }: ReplyHubOptions) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#keys = keys;
    this.#logger = logger.child({ component: "reply-hub" });
    subscriber.on("smessage", (_channel: string, message: string) => this.#onMessage(message));
    subscriber.on("ready", () => {
      // After a reconnect: once subscribed again (ioredis resubscribes too; asking twice is harmless),
      // every follower reads back what was published while the connection was down.
      if (!this.#started || this.#closed) return;
      void this.#subscribe().then(
        () => {
          for (const subs of this.#byKey.values()) for (const s of subs) this.#catchUp(s);
        },
        (error: unknown) => this.#logger.warn({ err: (error as Error).message }, "resubscribing failed"),
      );
    });
  }

  #subscribe(): Promise<unknown> {
    const channels = Array.from({ length: CONVERSATION_SHARDS }, (_, i) =>
      this.#keys.streamEvents(i.toString(16)),
    );
    return this.#subscriber.ssubscribe(...channels);
  }

  /** Subscribes to every shard's channel; resolves once Redis confirmed them. */
  start(): Promise<void> {
    this.#started ??= this.#subscribe().then(() => undefined);
    return this.#started;
  }

  /** Delivers the entries of `key` after `afterId` (exclusive) to `handler`, in order, until unsubscribed. */
  subscribe(key: string, afterId: string, handler: StreamHandler): () => void {
    const sub: Subscription = { key, lastId: afterId, handler, pending: undefined };
    let subs = this.#byKey.get(key);
    if (!subs) {
      subs = new Set();
      this.#byKey.set(key, subs);
    }
    subs.add(sub);
    this.#catchUp(sub);
    return () => {
      const set = this.#byKey.get(key);
      set?.delete(sub);
      if (set?.size === 0) this.#byKey.delete(key);
    };
  }

  /** How many streams are followed now (a gauge for memory and fan-out). */
  get following(): number {
    return this.#byKey.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#byKey.clear();
  }

  #onMessage(message: string): void {
    const parts = message.split("\n");
    const [key, id] = parts;
    if (key === undefined || id === undefined) return;
    const subs = this.#byKey.get(key);
    if (!subs) return;
    const fields = parts.slice(2);
    for (const s of subs) {
      if (s.pending) s.pending.push([id, fields]);
      else this.#deliver(s, id, fields);
    }
  }

  #deliver(s: Subscription, id: string, fields: string[]): void {
    if (compareIds(id, s.lastId) <= 0) return;
    s.lastId = id;
    s.handler(fields, id);
  }

  /** Reads the stream after the subscription's position, then delivers what arrived live meanwhile. */
  #catchUp(s: Subscription): void {
    if (s.pending) return;
    s.pending = [];
    void (async () => {
      for (let attempt = 0; !this.#closed; attempt++) {
        try {
          for (;;) {
            const entries = (await this.#redis.xrange(s.key, `(${s.lastId}`, "+", "COUNT", 500)) as [
              string,
              string[],
            ][];
            if (!this.#active(s)) return;
            for (const [id, fields] of entries) this.#deliver(s, id, fields);
            if (entries.length < 500) break;
          }
          const live = s.pending ?? [];
          s.pending = undefined;
          live.sort((a, b) => compareIds(a[0], b[0]));
          for (const [id, fields] of live) this.#deliver(s, id, fields);
          return;
        } catch (error) {
          if (!this.#active(s)) return;
          if (attempt === 0)
            this.#logger.warn({ err: (error as Error).message }, "stream backlog read failed; retrying");
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
        }
      }
    })();
  }

  #active(s: Subscription): boolean {
    return !this.#closed && (this.#byKey.get(s.key)?.has(s) ?? false);
  }
}

/** Orders Redis stream ids ("ms-seq"); "0" and "0-0" sort first. */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  if (am.length !== bm.length) return am.length < bm.length ? -1 : 1;
  if (am !== bm) return am < bm ? -1 : 1;
  if (as.length !== bs.length) return as.length < bs.length ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
