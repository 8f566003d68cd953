import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import { APPEND_TURN_LUA, contextKey } from "../conversation/context-store.ts";
import type { ConversationRef } from "../conversation/inbound-message.ts";
import type { Turn } from "../conversation/turn.ts";
import type { Keyspace } from "../redis/redis-client.ts";
import { type ReplyEntry, replyKey } from "./reply-stream.ts";

/**
 * The record of each message's life in Redis (`msg:<id>` hash: state, prev, attempts, cancelled).
 * It makes three promises the rest of the system relies on:
 * - claim: a platform message is accepted once, however often it is delivered;
 * - order: each message knows its conversation's previous message, so answers come in order;
 * - finish: exactly one final answer or error is published, and the turn is appended with it, even when
 *   two workers race after a stall (the check and the writes are one Lua script).
 */
export type MessageState = "queued" | "running" | "done";

const CLAIM_LUA = `
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  return {1, redis.call('HGET', KEYS[1], 'prev') or '', state}
end
local prev = redis.call('GET', KEYS[2]) or ''
redis.call('HSET', KEYS[1], 'state', 'queued', 'prev', prev, 'at', ARGV[3], 'ch', ARGV[4], 'conv', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '200', '*', 'm', ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return {0, prev, 'queued'}
`;

const FINISH_LUA = `${APPEND_TURN_LUA}
if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'outcome', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
if ARGV[1] ~= '' then appendTurn(KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])) end
redis.call('XADD', KEYS[3], '*', 't', ARGV[4], 'd', ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1
`;

export interface Claim {
  duplicate: boolean;
  previousMessageId: string | null;
  state: MessageState;
}

export interface AnswerLedgerOptions {
  redis: Redis;
  keys: Keyspace;
  maxTurns: number;
  contextTtlSeconds: number;
  /** How long a platform message id is remembered (dedupe window) and its reply stream kept. */
  dedupeTtlSeconds: number;
}

export class AnswerLedger {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #maxTurns: number;
  readonly #contextTtl: number;
  readonly #ttl: number;

  constructor({ redis, keys, maxTurns, contextTtlSeconds, dedupeTtlSeconds }: AnswerLedgerOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#maxTurns = maxTurns;
    this.#contextTtl = contextTtlSeconds;
    this.#ttl = dedupeTtlSeconds;
  }

  messageKey(messageId: string): string {
    return this.#keys("msg", messageId);
  }

  /** Per-conversation log of accepted message ids, in answer order (a stream, so readers can block on it). */
  conversationLogKey(ref: ConversationRef): string {
    return this.#keys("convlog", ref.channel, ref.tenant, ref.conversationKey);
  }

  async claim(ref: ConversationRef, messageId: string): Promise<Claim> {
    const lastKey = this.#keys("last", ref.channel, ref.tenant, ref.conversationKey);
    const [dup, prev, state] = (await this.#redis.eval(
      CLAIM_LUA,
      3,
      this.messageKey(messageId),
      lastKey,
      this.conversationLogKey(ref),
      messageId,
      this.#ttl,
      Date.now(),
      ref.channel,
      ref.conversationKey,
    )) as [number, string, MessageState];
    return { duplicate: dup === 1, previousMessageId: prev === "" ? null : prev, state };
  }

  async exists(messageId: string): Promise<boolean> {
    return (await this.#redis.exists(this.messageKey(messageId))) === 1;
  }

  async state(messageId: string): Promise<Record<string, string>> {
    return this.#redis.hgetall(this.messageKey(messageId));
  }

  /** Id of the newest entry in the message's reply stream, if any. */
  async lastReplyEntryId(messageId: string): Promise<string | undefined> {
    const last = await this.#redis.xrevrange(replyKey(this.#keys, messageId), "+", "-", "COUNT", 1);
    return last[0]?.[0];
  }

  /** Counts this attempt and marks the message running; returns the attempt number (1, 2, ...). */
  async beginAttempt(messageId: string): Promise<number> {
    const key = this.messageKey(messageId);
    const [[, attempt]] = (await this.#redis
      .multi()
      .hincrby(key, "attempts", 1)
      .hset(key, "state", "running")
      .exec()) as [[null, number], [null, number]];
    return attempt;
  }

  async markCancelled(messageId: string): Promise<void> {
    await this.#redis.hset(this.messageKey(messageId), "cancelled", "1");
  }

  /**
   * Publishes the final entry (answer or error) and appends the turn, once. Returns false when the
   * message was already finished (a second worker after a stall, or a janitor racing a worker).
   */
  async finish(ref: ConversationRef, messageId: string, entry: ReplyEntry, turn?: Turn): Promise<boolean> {
    const result = await this.#redis.eval(
      FINISH_LUA,
      3,
      this.messageKey(messageId),
      contextKey(this.#keys, ref),
      replyKey(this.#keys, messageId),
      turn ? JSON.stringify(turn) : "",
      this.#maxTurns,
      this.#contextTtl,
      entry.t,
      JSON.stringify(entry.d),
      this.#ttl,
    );
    return result === 1;
  }
}

/** The ledger as configured (turns kept, context TTL, dedupe window); gateways and workers share it. */
export function ledgerFor(redis: Redis, keys: Keyspace, conversation: Config["conversation"]): AnswerLedger {
  return new AnswerLedger({
    redis,
    keys,
    maxTurns: conversation.historyTurns,
    contextTtlSeconds: conversation.contextTtlSeconds,
    dedupeTtlSeconds: conversation.dedupeTtlSeconds,
  });
}
