import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { contextKey } from "../conversation/context-store.ts";
import type { Channel, ConversationRef } from "../conversation/inbound-message.ts";
import { TurnSchema } from "../conversation/turn.ts";
import { handoffIdOf } from "../handoff/handoff-service.ts";
import type { InsightsStore } from "../insights/insights-store.ts";
import type { Keyspace } from "../redis/redis-client.ts";

export interface ErasureResult {
  channel: string;
  userId: string;
  conversations: number;
  events: number;
  gaps: number;
  /** Webhook handoff deliveries about the user still queued, retrying or kept after failing. */
  deliveries: number;
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
  readonly #deliveries: Queue | undefined;

  /** @param deliveries the webhook delivery queue, whose pending and failed jobs carry handoff records. */
  constructor(redis: Redis, keys: Keyspace, insights: InsightsStore, deliveries?: Queue) {
    this.#redis = redis;
    this.#keys = keys;
    this.#insights = insights;
    this.#deliveries = deliveries;
  }

  async erase(channel: Channel, userId: string): Promise<ErasureResult> {
    const indexKey = this.#insights.userKey(channel, userId);
    const members = await this.#redis.smembers(indexKey);
    const result: ErasureResult = {
      channel,
      userId,
      conversations: 0,
      events: 0,
      gaps: 0,
      deliveries: 0,
      keys: 0,
    };
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
    result.deliveries = await this.#eraseDeliveries(channel, userId);
    return result;
  }

  /**
   * Handoff records waiting in the webhook queue (or kept there after failing) name the user. This is
   * the one scan: the queue holds only undelivered or failed deliveries (delivered ones are removed within
   * an hour), read in pages.
   */
  async #eraseDeliveries(channel: Channel, userId: string): Promise<number> {
    const queue = this.#deliveries;
    if (!queue) return 0;
    let removed = 0;
    for (const state of ["waiting", "delayed", "failed", "prioritized"] as const) {
      for (let start = 0; ; start += 500) {
        const jobs = await queue.getJobs([state], start, start + 499);
        let removedHere = 0;
        for (const job of jobs) {
          const data = (job.data as { data?: { channel?: unknown; userId?: unknown } }).data;
          const mine = data?.userId === userId && (data.channel === undefined || data.channel === channel);
          if (mine) {
            await job.remove().catch(() => undefined);
            removedHere += 1;
          }
        }
        removed += removedHere;
        if (jobs.length < 500) break;
        start -= removedHere;
      }
    }
    return removed;
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
