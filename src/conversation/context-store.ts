import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { ConversationRef } from "./inbound-message.ts";
import { type Turn, TurnSchema } from "./turn.ts";

/** What the conversation layer needs from context storage, and nothing more. */
export interface ContextStore {
  /** The kept turns, oldest first, with their votes. */
  load(ref: ConversationRef): Promise<Turn[]>;
  /**
   * Appends a turn and trims to the newest `maxTurns`, atomically, refreshing the TTL. Idempotent by turn
   * id: appending a turn that is already kept changes nothing (a retried worker, or a successor healing a
   * predecessor that died between finishing and appending). Returns false when it was already there.
   */
  append(ref: ConversationRef, turn: Turn): Promise<boolean>;
  /**
   * Appends the turn another store recorded as a JSON field (the answer ledger records the turn an
   * answer made, once, with its final entry), idempotently like `append`; nothing when none is recorded.
   * This keeps the context's one writer here while the turn's one source of truth is the ledger.
   */
  appendRecorded(
    ref: ConversationRef,
    turnId: string,
    source: { key: string; field: string },
  ): Promise<boolean>;
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
 * A kept turn is found by the `"id":"…"` its JSON starts with (turns are written by JSON.stringify of a
 * parsed Turn, whose first key is the id; text fields escape their quotes, so they cannot fake it).
 */
const FIND_TURN_LUA = `
local function findTurn(key, needle)
  local items = redis.call('LRANGE', key, 0, -1)
  for i, item in ipairs(items) do
    if string.find(item, needle, 1, true) then return i end
  end
  return nil
end
`;

/** Append-and-trim in one script, so two answers finishing together never interleave RPUSH and LTRIM. */
const APPEND_LUA = `${FIND_TURN_LUA}
if findTurn(KEYS[1], ARGV[2]) then return 0 end
local maxTurns = tonumber(ARGV[3])
if maxTurns <= 0 then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -maxTurns, -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return 1
`;

/** APPEND_LUA, with the turn read from where it was recorded (KEYS[3], field ARGV[1]). */
const APPEND_RECORDED_LUA = `${FIND_TURN_LUA}
local turn = redis.call('HGET', KEYS[3], ARGV[1])
if not turn then return 0 end
if findTurn(KEYS[1], ARGV[2]) then return 0 end
local maxTurns = tonumber(ARGV[3])
if maxTurns <= 0 then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end
redis.call('RPUSH', KEYS[1], turn)
redis.call('LTRIM', KEYS[1], -maxTurns, -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return 1
`;

/** Votes live beside the list (a hash by turn id), so storing one never rewrites a turn. */
const FEEDBACK_LUA = `${FIND_TURN_LUA}
if not findTurn(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return 1
`;

const APPEND = new LuaScript(APPEND_LUA, 2);
const APPEND_RECORDED = new LuaScript(APPEND_RECORDED_LUA, 3);
const FEEDBACK = new LuaScript(FEEDBACK_LUA, 2);

const needleOf = (turnId: string) => JSON.stringify({ id: turnId }).slice(1, -1);

/** The context list and its votes: the one writer of both (see src/redis/keyspace.ts for the keys). */
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
    const [[, raw], [, votes]] = (await this.#redis
      .multi()
      .lrange(this.#keys.context(ref), 0, -1)
      .hgetall(this.#keys.contextFeedback(ref))
      .exec()) as [[null, string[]], [null, Record<string, string>]];
    return raw.flatMap((item) => {
      const parsed = TurnSchema.safeParse(JSON.parse(item));
      if (!parsed.success) return [];
      const vote = votes[parsed.data.id];
      const feedback = vote ? TurnSchema.shape.feedback.safeParse(JSON.parse(vote)) : undefined;
      return [feedback?.success && feedback.data ? { ...parsed.data, feedback: feedback.data } : parsed.data];
    });
  }

  async append(ref: ConversationRef, turn: Turn): Promise<boolean> {
    // Parsed first: the stored JSON then starts with the id (what FIND_TURN_LUA looks for).
    const { feedback: _, ...stored } = TurnSchema.parse(turn);
    const result = await APPEND.run(
      this.#redis,
      [this.#keys.context(ref), this.#keys.contextFeedback(ref)],
      [JSON.stringify(stored), needleOf(turn.id), this.#maxTurns, this.#ttl],
    );
    return result === 1;
  }

  async appendRecorded(
    ref: ConversationRef,
    turnId: string,
    source: { key: string; field: string },
  ): Promise<boolean> {
    const result = await APPEND_RECORDED.run(
      this.#redis,
      [this.#keys.context(ref), this.#keys.contextFeedback(ref), source.key],
      [source.field, needleOf(turnId), this.#maxTurns, this.#ttl],
    );
    return result === 1;
  }

  async setFeedback(
    ref: ConversationRef,
    turnId: string,
    feedback: NonNullable<Turn["feedback"]>,
  ): Promise<boolean> {
    const result = await FEEDBACK.run(
      this.#redis,
      [this.#keys.context(ref), this.#keys.contextFeedback(ref)],
      [needleOf(turnId), turnId, JSON.stringify(feedback)],
    );
    return result === 1;
  }

  async clear(ref: ConversationRef): Promise<void> {
    await this.#redis.del(this.#keys.context(ref), this.#keys.contextFeedback(ref));
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
