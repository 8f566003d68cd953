import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import { type Channel, ChannelSchema, type ConversationRef } from "../conversation/inbound-message.ts";
import { type Turn, TurnSchema } from "../conversation/turn.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import type { ReplyEntry } from "./reply-stream.ts";

/**
 * The record of each message's life in Redis (the `msg` hash of the keyspace). It makes three promises
 * the rest of the system relies on:
 * - claim: a platform message is accepted once, however often it is delivered;
 * - order: each message knows its conversation's previous message, so answers come in order;
 * - finish: exactly one final answer or error is published, even when two workers race after a stall
 *   (the check and the writes are one Lua script). The turn the answer makes is kept in the record, so
 *   that whoever finds it missing from the context can append it (the ContextStore is the context's only
 *   writer, and its append is idempotent).
 * Every key a script touches carries the conversation's hash tag (see src/redis/keyspace.ts).
 */
export type MessageState = "queued" | "running" | "done";

/** One message's ledger record, parsed once from the hash. */
export interface MessageRecord {
  state: MessageState;
  /** The conversation's message before this one (answered first), if any. */
  previousMessageId: string | null;
  /** When the message was accepted (ms since epoch). */
  acceptedAt: number;
  channel: Channel;
  conversationKey: string;
  /** Attempts started by workers so far. */
  attempts: number;
  cancelled: boolean;
  /** The final entry's type once done ("final" or "error"). */
  outcome?: "final" | "error";
  /** The turn this message's answer added to the context, once done with an answer. */
  turn?: Turn;
}

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

const FINISH_LUA = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or (ARGV[5] ~= '' and state ~= ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'outcome', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'turn', ARGV[3]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('XADD', KEYS[2], '*', 't', ARGV[1], 'd', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
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
  /** How long a platform message id is remembered (dedupe window) and its reply stream kept. */
  dedupeTtlSeconds: number;
}

const STATES = new Set<string>(["queued", "running", "done"]);

function parseRecord(h: Record<string, string>): MessageRecord | undefined {
  if (!h.state || !STATES.has(h.state)) return undefined;
  const channel = ChannelSchema.safeParse(h.ch);
  let turn: Turn | undefined;
  if (h.turn) {
    const parsed = TurnSchema.safeParse(JSON.parse(h.turn));
    if (parsed.success) turn = parsed.data;
  }
  return {
    state: h.state as MessageState,
    previousMessageId: h.prev ? h.prev : null,
    acceptedAt: Number(h.at ?? 0),
    channel: channel.success ? channel.data : "webchat",
    conversationKey: h.conv ?? "",
    attempts: Number(h.attempts ?? 0),
    cancelled: h.cancelled === "1",
    ...(h.outcome === "final" || h.outcome === "error" ? { outcome: h.outcome } : {}),
    ...(turn ? { turn } : {}),
  };
}

export class AnswerLedger {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #ttl: number;

  constructor({ redis, keys, dedupeTtlSeconds }: AnswerLedgerOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttl = dedupeTtlSeconds;
  }

  /** Per-conversation log of accepted message ids, in answer order (a stream, so readers can block on it). */
  conversationLogKey(ref: ConversationRef): string {
    return this.#keys.conversationLog(ref);
  }

  async claim(ref: ConversationRef, messageId: string): Promise<Claim> {
    const [dup, prev, state] = (await this.#redis.eval(
      CLAIM_LUA,
      3,
      this.#keys.message(messageId),
      this.#keys.lastMessage(ref),
      this.#keys.conversationLog(ref),
      messageId,
      this.#ttl,
      Date.now(),
      ref.channel,
      ref.conversationKey,
    )) as [number, string, MessageState];
    return { duplicate: dup === 1, previousMessageId: prev === "" ? null : prev, state };
  }

  async exists(messageId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.message(messageId))) === 1;
  }

  /** The message's record; undefined when it was never accepted (or has expired). */
  async record(messageId: string): Promise<MessageRecord | undefined> {
    return parseRecord(await this.#redis.hgetall(this.#keys.message(messageId)));
  }

  /** Id of the newest entry in the message's reply stream, if any. */
  async lastReplyEntryId(messageId: string): Promise<string | undefined> {
    const last = await this.#redis.xrevrange(this.#keys.reply(messageId), "+", "-", "COUNT", 1);
    return last[0]?.[0];
  }

  /** Counts this attempt and marks the message running; returns the attempt number (1, 2, ...). */
  async beginAttempt(messageId: string): Promise<number> {
    const key = this.#keys.message(messageId);
    const [[, attempt]] = (await this.#redis
      .multi()
      .hincrby(key, "attempts", 1)
      .hset(key, "state", "running")
      .exec()) as [[null, number], [null, number]];
    return attempt;
  }

  async markCancelled(messageId: string): Promise<void> {
    await this.#redis.hset(this.#keys.message(messageId), "cancelled", "1");
  }

  /**
   * Publishes the final entry (answer or error) once, recording the turn it makes. Returns false when the
   * message was already finished (a second worker after a stall, or a janitor racing a worker): then the
   * caller must not append its turn, the winner's is the one.
   */
  async finish(messageId: string, entry: ReplyEntry, turn?: Turn): Promise<boolean> {
    const result = await this.#redis.eval(
      FINISH_LUA,
      2,
      this.#keys.message(messageId),
      this.#keys.reply(messageId),
      entry.t,
      JSON.stringify(entry.d),
      turn ? JSON.stringify(turn) : "",
      this.#ttl,
      "",
    );
    return result === 1;
  }

  /**
   * Ends a message that no worker has started with an error entry: the queue-wait budget ran out. False
   * when a worker already began it (or it is finished), which then owns its outcome.
   */
  async expireQueued(messageId: string, entry: ReplyEntry): Promise<boolean> {
    const result = await this.#redis.eval(
      FINISH_LUA,
      2,
      this.#keys.message(messageId),
      this.#keys.reply(messageId),
      entry.t,
      JSON.stringify(entry.d),
      "",
      this.#ttl,
      "queued",
    );
    return result === 1;
  }
}

/** The ledger as configured (dedupe window); gateways and workers share it. */
export function ledgerFor(redis: Redis, keys: Keyspace, conversation: Config["conversation"]): AnswerLedger {
  return new AnswerLedger({ redis, keys, dedupeTtlSeconds: conversation.dedupeTtlSeconds });
}
