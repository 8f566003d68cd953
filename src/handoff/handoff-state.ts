import type { Redis } from "ioredis";
import type { Channel, ConversationRef } from "../conversation/inbound-message.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import type { HandoffRecord, HandoffStates } from "./handoff-service.ts";
import { handoffIdOf } from "./handoff-service.ts";

/** A conversation currently with a person, as the admin API lists it. */
export interface OpenHandoff {
  id: string;
  channel: Channel;
  tenant: string;
  conversationKey: string;
  /** The user who asked for a person. */
  userId: string;
  requestedAt: number;
  /** "waiting" until a person answers in the conversation (Slack thread) or through the admin API. */
  status: "waiting" | "human";
  /** Messages the user sent while handed off. */
  followUps: number;
}

/** What deciding about a new message needs to know of a hand-off. */
export type PeekedHandoff = Pick<OpenHandoff, "id" | "userId" | "status">;

export interface FollowUp {
  at: number;
  userId: string;
  text: string;
}

export interface RedisHandoffStatesOptions {
  redis: Redis;
  keys: Keyspace;
  /** How long a handoff is kept when nobody releases it (the retention period), in seconds. */
  ttlSeconds: number;
  /** Told after a conversation returns to the bot (the webhook sends `handoff.released`). */
  onReleased?: (id: string, by: string) => Promise<void>;
}

/**
 * Handoff state in Redis: one hash per handed-off conversation (`handoff-state:<id>`, TTL = retention),
 * its follow-up log (`handoff-log:<id>`), and a sorted set of open ids for listing. The hash's presence
 * is what silences the bot, so release is one DEL and an expired handoff returns to the bot by itself.
 */
export class RedisHandoffStates implements HandoffStates {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #ttl: number;
  readonly #onReleased: RedisHandoffStatesOptions["onReleased"];

  constructor({ redis, keys, ttlSeconds, onReleased }: RedisHandoffStatesOptions) {
    this.#onReleased = onReleased;
    this.#redis = redis;
    this.#keys = keys;
    this.#ttl = ttlSeconds;
  }

  stateKey(id: string): string {
    return this.#keys.handoffState(id);
  }

  logKey(id: string): string {
    return this.#keys.handoffLog(id);
  }

  get openKey(): string {
    return this.#keys.handoffsOpen();
  }

  async open(record: HandoffRecord): Promise<void> {
    const id = record.id ?? handoffIdOf(record);
    await this.#redis
      .multi()
      .hset(this.stateKey(id), {
        id,
        channel: record.channel,
        tenant: record.tenant,
        conversationKey: record.conversationKey,
        userId: record.userId,
        requestedAt: record.requestedAt,
        status: "waiting",
      })
      .expire(this.stateKey(id), this.#ttl)
      .zadd(this.openKey, record.requestedAt, id)
      .exec();
  }

  async release(id: string, by: string): Promise<boolean> {
    const [[, removed]] = (await this.#redis
      .multi()
      .del(this.stateKey(id))
      .del(this.logKey(id))
      .zrem(this.openKey, id)
      .exec()) as [[null, number], ...unknown[]];
    // Only the caller that actually removed the state reports it, so a double click notifies once.
    if (removed === 1) await this.#onReleased?.(id, by);
    return removed === 1;
  }

  async get(id: string): Promise<OpenHandoff | undefined> {
    const [[, h], [, n]] = (await this.#redis
      .multi()
      .hgetall(this.stateKey(id))
      .llen(this.logKey(id))
      .exec()) as [[null, Record<string, string>], [null, number]];
    if (!h.id) return undefined;
    return {
      id: h.id,
      channel: h.channel as Channel,
      tenant: h.tenant ?? "",
      conversationKey: h.conversationKey ?? "",
      userId: h.userId ?? "",
      requestedAt: Number(h.requestedAt),
      status: h.status === "human" ? "human" : "waiting",
      followUps: n,
    };
  }

  byRef(ref: ConversationRef): Promise<OpenHandoff | undefined> {
    return this.get(handoffIdOf(ref));
  }

  /** Whether a conversation is handed off, and to whom it belongs: one command, for every message. */
  async peek(ref: ConversationRef): Promise<PeekedHandoff | undefined> {
    const id = handoffIdOf(ref);
    const [found, userId, status] = await this.#redis.hmget(this.stateKey(id), "id", "userId", "status");
    if (!found) return undefined;
    return { id, userId: userId ?? "", status: status === "human" ? "human" : "waiting" };
  }

  /** Open handoffs, oldest first; ids whose state expired are dropped from the index on the way. */
  async list(limit = 100): Promise<OpenHandoff[]> {
    const ids = await this.#redis.zrange(this.openKey, 0, limit - 1);
    const out: OpenHandoff[] = [];
    for (const id of ids) {
      const state = await this.get(id);
      if (state) out.push(state);
      else await this.#redis.zrem(this.openKey, id);
    }
    return out;
  }

  /** Keeps what the user wrote while waiting, so the person taking over sees it. */
  async appendFollowUp(id: string, followUp: FollowUp): Promise<void> {
    await this.#redis
      .multi()
      .rpush(this.logKey(id), JSON.stringify(followUp))
      .ltrim(this.logKey(id), -200, -1)
      .expire(this.logKey(id), this.#ttl)
      .exec();
  }

  async followUps(id: string): Promise<FollowUp[]> {
    return (await this.#redis.lrange(this.logKey(id), 0, -1)).map((s) => JSON.parse(s) as FollowUp);
  }

  /** Marks the conversation's hand-off taken when someone other than the asker wrote in it. */
  async takenByPerson(ref: ConversationRef, userId: string): Promise<boolean> {
    const open = await this.byRef(ref);
    if (!open || open.userId === userId || open.status === "human") return false;
    await this.markHuman(open.id);
    return true;
  }

  /** A person answered in the conversation: the bot stays silent, the listing shows who took it. */
  async markHuman(id: string): Promise<void> {
    await this.#redis.hset(this.stateKey(id), "status", "human");
  }
}
