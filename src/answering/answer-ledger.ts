import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import { type Channel, ChannelSchema, type ConversationRef } from "../conversation/inbound-message.ts";
import { type Turn, TurnSchema } from "../conversation/turn.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { LuaScript } from "../redis/lua-script.ts";
import type { ReplyEntry } from "./reply-stream.ts";
import { APPEND_ENTRY_LUA } from "./stream-append.ts";

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

const CLAIM = new LuaScript(
  `${APPEND_ENTRY_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  return {1, redis.call('HGET', KEYS[1], 'prev') or '', state}
end
local prev = redis.call('GET', KEYS[2]) or ''
redis.call('HSET', KEYS[1], 'state', 'queued', 'prev', prev, 'at', ARGV[3], 'ch', ARGV[4], 'conv', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
appendEntry(KEYS[3], ARGV[6], 200, {'m', ARGV[1], 'at', ARGV[3], 'ch', ARGV[4]})
redis.call('EXPIRE', KEYS[3], ARGV[2])
return {0, prev, 'queued'}`,
  3,
);

/**
 * Starts a worker's attempt at a message in one round trip, unless it must not start: finished already
 * (returns the turn it made), cancelled, or its conversation's previous message is not finished (returns
 * that one's state and acceptance time). Otherwise counts the attempt, marks the message running, writes
 * the attempt's `start` entry, and returns the attempt number and the previous message's turn.
 */
const BEGIN = new LuaScript(
  `${APPEND_ENTRY_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return {'done', redis.call('HGET', KEYS[1], 'turn') or ''} end
if redis.call('HGET', KEYS[1], 'cancelled') == '1' then return {'cancelled'} end
local prevTurn = ''
if ARGV[4] == '1' then
  local prev = redis.call('HMGET', KEYS[2], 'state', 'at', 'turn')
  if prev[1] and prev[1] ~= 'done' then return {'wait', prev[1], prev[2] or '0'} end
  prevTurn = prev[3] or ''
end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'running')
appendEntry(KEYS[3], ARGV[1], 0, {'t', 'start', 'd', '{"attempt":' .. attempt .. ',"at":' .. ARGV[3] .. '}'})
redis.call('EXPIRE', KEYS[3], ARGV[2])
return {'go', attempt, prevTurn}`,
  3,
);

/**
 * Publishes the final entry once (after the streamed text still owed, if any), recording the turn the
 * answer makes. ARGV[5], when set, is the only state the message may be in (the queue-wait budget expires
 * only messages still queued).
 */
const FINISH = new LuaScript(
  `${APPEND_ENTRY_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or (ARGV[5] ~= '' and state ~= ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'outcome', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'turn', ARGV[3]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[7] ~= '' then appendEntry(KEYS[2], ARGV[6], 0, {'t', 'token', 'd', ARGV[7]}) end
appendEntry(KEYS[2], ARGV[6], 0, {'t', ARGV[1], 'd', ARGV[2]})
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1`,
  2,
);

/** What a worker learns when it asks to begin an attempt. */
export type BeginResult =
  | { outcome: "go"; attempt: number; previousTurn?: Turn }
  | { outcome: "done"; turn?: Turn }
  | { outcome: "cancelled" }
  /** The previous message is not finished: wait (or skip it, if it was never enqueued). */
  | { outcome: "wait"; previousState: MessageState; previousAcceptedAt: number };

const parseTurn = (raw: string | undefined): Turn | undefined => {
  if (!raw) return undefined;
  const parsed = TurnSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
};

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
  const turn = parseTurn(h.turn);
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

  /** Where the message's record lives, and the field its turn is recorded in (for ContextStore.appendRecorded). */
  recordOf(messageId: string): { key: string; field: string } {
    return { key: this.#keys.message(messageId), field: "turn" };
  }

  /** Per-conversation log of accepted message ids, in answer order (a stream, so readers can block on it). */
  conversationLogKey(ref: ConversationRef): string {
    return this.#keys.conversationLog(ref);
  }

  async claim(ref: ConversationRef, messageId: string, acceptedAt = Date.now()): Promise<Claim> {
    const log = this.#keys.conversationLog(ref);
    const [dup, prev, state] = (await CLAIM.run(
      this.#redis,
      [this.#keys.message(messageId), this.#keys.lastMessage(ref), log],
      [messageId, this.#ttl, acceptedAt, ref.channel, ref.conversationKey, this.#keys.streamEventsOf(log)],
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

  /**
   * Begins a worker's attempt (see BEGIN). `previousMessageId` is the conversation's message before this
   * one, whose answer must be finished first; null when there is none or it is to be skipped.
   */
  async begin(messageId: string, previousMessageId: string | null, now = Date.now()): Promise<BeginResult> {
    const reply = this.#keys.reply(messageId);
    const result = (await BEGIN.run(
      this.#redis,
      [this.#keys.message(messageId), this.#keys.message(previousMessageId ?? messageId), reply],
      [this.#keys.streamEventsOf(reply), this.#ttl, now, previousMessageId ? "1" : "0"],
    )) as [string, ...(string | number)[]];
    switch (result[0]) {
      case "done": {
        const turn = parseTurn(result[1] as string | undefined);
        return turn ? { outcome: "done", turn } : { outcome: "done" };
      }
      case "cancelled":
        return { outcome: "cancelled" };
      case "wait":
        return {
          outcome: "wait",
          previousState: result[1] as MessageState,
          previousAcceptedAt: Number(result[2] ?? 0),
        };
      default: {
        const previousTurn = parseTurn(result[2] as string | undefined);
        return { outcome: "go", attempt: Number(result[1]), ...(previousTurn ? { previousTurn } : {}) };
      }
    }
  }

  async markCancelled(messageId: string): Promise<void> {
    await this.#redis.hset(this.#keys.message(messageId), "cancelled", "1");
  }

  /**
   * Publishes the final entry (answer or error) once, after `streamedText` (text of this attempt not
   * streamed yet, sent as one token entry in the same call), recording the turn it makes. Returns false
   * when the message was already finished (a second worker after a stall, or a janitor racing a worker):
   * then the winner's turn is the one kept.
   */
  async finish(
    messageId: string,
    entry: ReplyEntry,
    turn?: Turn,
    streamed?: { attempt: number; text: string },
  ): Promise<boolean> {
    return this.#finish(messageId, entry, turn, "", streamed);
  }

  /**
   * Ends a message that no worker has started with an error entry: the queue-wait budget ran out. False
   * when a worker already began it (or it is finished), which then owns its outcome.
   */
  async expireQueued(messageId: string, entry: ReplyEntry): Promise<boolean> {
    return this.#finish(messageId, entry, undefined, "queued");
  }

  async #finish(
    messageId: string,
    entry: ReplyEntry,
    turn: Turn | undefined,
    onlyIf: string,
    streamed?: { attempt: number; text: string },
  ): Promise<boolean> {
    const reply = this.#keys.reply(messageId);
    const result = await FINISH.run(
      this.#redis,
      [this.#keys.message(messageId), reply],
      [
        entry.t,
        JSON.stringify(entry.d),
        turn ? JSON.stringify(turn) : "",
        this.#ttl,
        onlyIf,
        this.#keys.streamEventsOf(reply),
        streamed && streamed.text.length > 0 ? JSON.stringify(streamed) : "",
      ],
    );
    return result === 1;
  }
}

/** The ledger as configured (dedupe window); gateways and workers share it. */
export function ledgerFor(redis: Redis, keys: Keyspace, conversation: Config["conversation"]): AnswerLedger {
  return new AnswerLedger({ redis, keys, dedupeTtlSeconds: conversation.dedupeTtlSeconds });
}
