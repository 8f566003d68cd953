import type { Redis } from "ioredis";
import { contextKey } from "../conversation/context-store.ts";
import { handoffIdOf } from "../conversation/handoff.ts";
import type { Channel, ConversationRef } from "../conversation/inbound-message.ts";
import { TurnSchema } from "../conversation/turn.ts";
import type { InsightsStore } from "../insights/insights-store.ts";
import type { Keyspace } from "../redis/redis-client.ts";

export interface ErasureResult {
  channel: string;
  userId: string;
  conversations: number;
  events: number;
  gaps: number;
  /** Redis keys deleted (contexts, message records, reply streams, handoffs, web-chat sessions). */
  keys: number;
}

/**
 * Deletes everything stored about one user (a privacy request): their analytics events and gaps, and
 * every conversation they took part in with its turns and feedback, message records, reply streams and
 * handoff state. Exact, not a scan: each write that names a user also lists itself in the user's index
 * set (`user:<channel>:<userId>`), and this walks that set.
 */
export class UserDataEraser {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #insights: InsightsStore;

  constructor(redis: Redis, keys: Keyspace, insights: InsightsStore) {
    this.#redis = redis;
    this.#keys = keys;
    this.#insights = insights;
  }

  async erase(channel: Channel, userId: string): Promise<ErasureResult> {
    const indexKey = this.#insights.userKey(channel, userId);
    const members = await this.#redis.smembers(indexKey);
    const result: ErasureResult = { channel, userId, conversations: 0, events: 0, gaps: 0, keys: 0 };
    const events: string[] = [];
    const gaps: string[] = [];
    for (const raw of members) {
      const member = JSON.parse(raw) as string[];
      if (member[0] === "ev" && member[1]) events.push(member[1]);
      else if (member[0] === "gap" && member[1]) gaps.push(member[1]);
      else if (member[0] === "conv" && member[1] !== undefined && member[2] !== undefined) {
        result.keys += await this.#eraseConversation({
          channel,
          tenant: member[1],
          conversationKey: member[2],
        });
        result.conversations += 1;
      }
    }
    if (events.length > 0) result.events = await this.#redis.xdel(this.#insights.eventsKey, ...events);
    if (gaps.length > 0) result.gaps = await this.#redis.xdel(this.#insights.gapsKey, ...gaps);
    result.keys += await this.#redis.del(indexKey);
    return result;
  }

  async #eraseConversation(ref: ConversationRef): Promise<number> {
    const k = this.#keys;
    const ctx = contextKey(k, ref);
    const log = k("convlog", ref.channel, ref.tenant, ref.conversationKey);
    const messageIds = new Set<string>();
    for (const raw of await this.#redis.lrange(ctx, 0, -1)) {
      const turn = TurnSchema.safeParse(JSON.parse(raw));
      if (turn.success) messageIds.add(turn.data.id);
    }
    for (const [, fields] of (await this.#redis.xrange(log, "-", "+")) as [string, string[]][]) {
      const i = fields.indexOf("m");
      const id = i >= 0 ? fields[i + 1] : undefined;
      if (id) messageIds.add(id);
    }
    const id = handoffIdOf(ref);
    const doomed = [
      ctx,
      log,
      k("last", ref.channel, ref.tenant, ref.conversationKey),
      k("handoff-state", id),
      k("handoff-log", id),
      ...[...messageIds].flatMap((m) => [
        k("msg", m),
        k("reply", m),
        // The handoff service's per-answer "already asked" marker.
        k("handoff", ref.channel, ref.tenant, ref.conversationKey, m),
      ]),
    ];
    if (ref.channel === "webchat") doomed.push(k("wc", "conv", ref.conversationKey));
    await this.#redis.zrem(k("handoffs", "open"), id);
    let deleted = 0;
    for (let i = 0; i < doomed.length; i += 500)
      deleted += await this.#redis.del(...doomed.slice(i, i + 500));
    return deleted;
  }
}
