import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import type { Keyspace } from "../redis/redis-client.ts";
import type { ConversationRef } from "./inbound-message.ts";
import { type Turn, TurnSchema } from "./turn.ts";

/** What the conversation layer needs from context storage, and nothing more. */
export interface ContextStore {
  /** The kept turns, oldest first. */
  load(ref: ConversationRef): Promise<Turn[]>;
  /** Appends a turn and trims to the newest `maxTurns`, atomically, refreshing the TTL. */
  append(ref: ConversationRef, turn: Turn): Promise<void>;
  /** Stores a vote with the turn; false when the turn is no longer kept. */
  setFeedback(
    ref: ConversationRef,
    turnId: string,
    feedback: NonNullable<Turn["feedback"]>,
  ): Promise<boolean>;
  /** Forgets a conversation's context. */
  clear(ref: ConversationRef): Promise<void>;
}

export interface RedisContextStoreOptions {
  redis: Redis;
  keys: Keyspace;
  /** @defaultValue 3 */
  maxTurns?: number;
  /** @defaultValue 7 days */
  ttlSeconds?: number;
}

/**
 * Append-and-trim in one Lua script so two answers finishing together can never interleave their
 * RPUSH/LTRIM and lose a turn. The same script body is reused by the worker's exactly-once finaliser.
 */
export const APPEND_TURN_LUA = `
local function appendTurn(key, turn, maxTurns, ttl)
  if maxTurns <= 0 then redis.call('DEL', key) return end
  redis.call('RPUSH', key, turn)
  redis.call('LTRIM', key, -maxTurns, -1)
  redis.call('EXPIRE', key, ttl)
end
`;

const APPEND_ONE_LUA = `${APPEND_TURN_LUA} appendTurn(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])) return 1`;

export function contextKey(keys: Keyspace, ref: ConversationRef): string {
  return keys("ctx", ref.channel, ref.tenant, ref.conversationKey);
}

export class RedisContextStore implements ContextStore {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #maxTurns: number;
  readonly #ttl: number;

  constructor({ redis, keys, maxTurns = 3, ttlSeconds = 7 * 24 * 3600 }: RedisContextStoreOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#maxTurns = maxTurns;
    this.#ttl = ttlSeconds;
  }

  async load(ref: ConversationRef): Promise<Turn[]> {
    const raw = await this.#redis.lrange(contextKey(this.#keys, ref), 0, -1);
    return raw.flatMap((item) => {
      const parsed = TurnSchema.safeParse(JSON.parse(item));
      return parsed.success ? [parsed.data] : [];
    });
  }

  async append(ref: ConversationRef, turn: Turn): Promise<void> {
    const key = contextKey(this.#keys, ref);
    await this.#redis.eval(APPEND_ONE_LUA, 1, key, JSON.stringify(turn), this.#maxTurns, this.#ttl);
  }

  async setFeedback(
    ref: ConversationRef,
    turnId: string,
    feedback: NonNullable<Turn["feedback"]>,
  ): Promise<boolean> {
    const key = contextKey(this.#keys, ref);
    // Optimistic transaction: if another turn lands between read and write, EXEC fails and we retry.
    for (let attempt = 0; attempt < 10; attempt++) {
      const watcher = this.#redis.duplicate();
      try {
        await watcher.watch(key);
        const items = await watcher.lrange(key, 0, -1);
        const index = items.findIndex((item) => (JSON.parse(item) as Turn).id === turnId);
        if (index < 0) {
          await watcher.unwatch();
          return false;
        }
        const turn = JSON.parse(items[index] as string) as Turn;
        const result = await watcher
          .multi()
          .lset(key, index, JSON.stringify({ ...turn, feedback }))
          .exec();
        if (result !== null) return true;
      } finally {
        watcher.disconnect();
      }
    }
    return false;
  }

  async clear(ref: ConversationRef): Promise<void> {
    await this.#redis.del(contextKey(this.#keys, ref));
  }
}

/** The context store as configured (turns kept, TTL). */
export function contextStoreFor(
  redis: Redis,
  keys: Keyspace,
  conversation: Config["conversation"],
): RedisContextStore {
  return new RedisContextStore({
    redis,
    keys,
    maxTurns: conversation.historyTurns,
    ttlSeconds: conversation.contextTtlSeconds,
  });
}
