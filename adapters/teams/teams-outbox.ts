import { randomUUID } from "node:crypto";
import type { Activity, ConversationReference } from "botbuilder";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";

/** An answer that could not be delivered yet, kept in Redis until it is. */
export interface OutboxEntry {
  id: string;
  /** The answer's message id (inference job id). */
  messageId: string;
  reference: Partial<ConversationReference>;
  activity: Partial<Activity>;
  /** Delivery attempts made from the outbox so far. */
  attempts: number;
  createdAt: number;
}

/**
 * Claims an entry if it is due, by pushing its score past a lease: two gateways draining the same
 * outbox never send the same entry at once, and an entry claimed by a gateway that died becomes due
 * again when the lease runs out.
 */
const claimScript = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0`;

/**
 * A Redis outbox of undelivered Teams answers: a sorted set of entry ids scored by when they are next
 * due, plus one JSON value per entry. Entries that keep failing go to a dead list for an operator.
 */
export class TeamsOutbox {
  private readonly index: string;
  private readonly dead: string;

  constructor(
    private readonly redis: ChannelRedis,
    private readonly keys: ChannelKeys,
    /** How long a claimed entry stays invisible to other gateways. */
    private readonly leaseMs = 60_000,
  ) {
    this.index = keys.key("outbox");
    this.dead = keys.key("outbox", "dead");
  }

  private key(id: string): string {
    return this.keys.key("outbox", "entry", id);
  }

  /** Keeps an answer for a later attempt, due after `delayMs`. */
  async add(
    entry: Omit<OutboxEntry, "id" | "attempts" | "createdAt">,
    delayMs: number,
  ): Promise<OutboxEntry> {
    const full: OutboxEntry = { ...entry, id: randomUUID(), attempts: 0, createdAt: Date.now() };
    await this.redis
      .multi()
      .set(this.key(full.id), JSON.stringify(full))
      .zadd(this.index, Date.now() + delayMs, full.id)
      .exec();
    return full;
  }

  /** Claims up to `limit` due entries for this gateway. */
  async claimDue(limit = 20): Promise<OutboxEntry[]> {
    const now = Date.now();
    const ids = await this.redis.zrangebyscore(this.index, 0, now, "LIMIT", 0, limit);
    const claimed: OutboxEntry[] = [];
    for (const id of ids) {
      const won = await this.redis.eval(claimScript, 1, this.index, id, now, now + this.leaseMs);
      if (won !== 1) continue;
      const raw = await this.redis.get(this.key(id));
      if (raw === null) {
        await this.redis.zrem(this.index, id);
        continue;
      }
      claimed.push(JSON.parse(raw) as OutboxEntry);
    }
    return claimed;
  }

  /** Removes a delivered entry. */
  async done(entry: OutboxEntry): Promise<void> {
    await this.redis.multi().zrem(this.index, entry.id).del(this.key(entry.id)).exec();
  }

  /** Counts a failed attempt and makes the entry due again after `delayMs`. */
  async retryLater(entry: OutboxEntry, delayMs: number): Promise<void> {
    const next = { ...entry, attempts: entry.attempts + 1 };
    await this.redis
      .multi()
      .set(this.key(entry.id), JSON.stringify(next))
      .zadd(this.index, Date.now() + delayMs, entry.id)
      .exec();
  }

  /** Gives up on an entry: it moves to the dead list, where an operator can still read it. */
  async bury(entry: OutboxEntry): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.dead, JSON.stringify(entry))
      .zrem(this.index, entry.id)
      .del(this.key(entry.id))
      .exec();
  }

  /** Entries waiting (due or not). */
  async size(): Promise<number> {
    return this.redis.zcard(this.index);
  }
}
