import { randomUUID } from "node:crypto";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";
import type { SlackReplyTarget } from "./slack-message.ts";

/** One accepted answer that is owed to a Slack thread. */
export interface OutboxEntry {
  messageId: string;
  conversationKey: string;
  target: SlackReplyTarget;
  /** Delivery attempts that failed so far. */
  attempts: number;
  since: number;
}

export interface SlackOutboxOptions {
  redis: ChannelRedis;
  keys: ChannelKeys;
  /** How long a delivery is owned without a renewal. @defaultValue 30000 */
  leaseMs?: number;
  /** Failed attempts after which an answer is dropped (and logged). @defaultValue 10 */
  maxAttempts?: number;
}

/**
 * Answers owed to Slack, in Redis, so that an accepted message is answered even if this gateway dies
 * mid-delivery or Slack stays unavailable past the client's retries: each entry has a lease held by the
 * gateway delivering it; any gateway's sweep takes over entries whose lease lapsed.
 */
export class SlackOutbox {
  readonly owner = randomUUID();
  readonly #redis: ChannelRedis;
  readonly #key: string;
  readonly #keys: ChannelKeys;
  readonly leaseMs: number;
  readonly maxAttempts: number;

  constructor({ redis, keys, leaseMs = 30_000, maxAttempts = 10 }: SlackOutboxOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#key = keys.key("outbox");
    this.leaseMs = leaseMs;
    this.maxAttempts = maxAttempts;
  }

  /** Records an answer as owed and takes its lease. */
  async add(entry: Omit<OutboxEntry, "attempts" | "since">): Promise<void> {
    const full: OutboxEntry = { ...entry, attempts: 0, since: Date.now() };
    await this.#redis
      .multi()
      .hset(this.#key, entry.messageId, JSON.stringify(full))
      .set(this.#lease(entry.messageId), this.owner, "PX", this.leaseMs)
      .exec();
  }

  async renew(messageId: string): Promise<void> {
    await this.#redis.pexpire(this.#lease(messageId), this.leaseMs);
  }

  /** The answer reached Slack (or was given up): forget it. */
  async complete(messageId: string): Promise<void> {
    await this.#redis.multi().hdel(this.#key, messageId).del(this.#lease(messageId)).exec();
  }

  /**
   * Counts a failed attempt and lets the entry be swept again after its lease lapses.
   * @returns false when the entry has now used up its attempts and was removed.
   */
  async fail(entry: OutboxEntry): Promise<boolean> {
    const attempts = entry.attempts + 1;
    if (attempts >= this.maxAttempts) {
      await this.complete(entry.messageId);
      return false;
    }
    await this.#redis.hset(this.#key, entry.messageId, JSON.stringify({ ...entry, attempts }));
    return true;
  }

  /** Entries nobody holds a lease on, now leased to this gateway. */
  async claimStale(): Promise<OutboxEntry[]> {
    const all = await this.#redis.hgetall(this.#key);
    const claimed: OutboxEntry[] = [];
    for (const [messageId, raw] of Object.entries(all)) {
      const ok = await this.#redis.set(this.#lease(messageId), this.owner, "PX", this.leaseMs, "NX");
      if (ok !== "OK") continue;
      try {
        claimed.push(JSON.parse(raw) as OutboxEntry);
      } catch {
        await this.complete(messageId);
      }
    }
    return claimed;
  }

  /** Number of answers still owed. */
  async size(): Promise<number> {
    return this.#redis.hlen(this.#key);
  }

  #lease(messageId: string): string {
    return this.#keys.key("outbox", "lease", messageId);
  }
}
