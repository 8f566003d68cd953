import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { ContextStore } from "../conversation/context-store.ts";
import type { Channel, ConversationRef } from "../conversation/inbound-message.ts";
import { handoffIdOf } from "../handoff/handoff-service.ts";
import type { InsightsStore } from "../insights/insights-store.ts";
import type { Keyspace } from "../redis/keyspace.ts";

export interface ErasureResult {
  channel: string;
  userId: string;
  conversations: number;
  events: number;
  gaps: number;
  /** Outbound deliveries about the user (hand-off posts, webhooks, replies) still queued, retrying or dead. */
  deliveries: number;
  /** Redis keys deleted (contexts, message records, reply streams, handoffs, web-chat sessions). */
  keys: number;
}

export interface UserDataEraserOptions {
  redis: Redis;
  keys: Keyspace;
  insights: InsightsStore;
  /** The conversations' kept turns (read to find their message ids). */
  context: ContextStore;
  /**
   * The delivery queues, whose pending and failed jobs may carry a user's words: a webhook job names the
   * user in `data.userId` (its hand-off record), a channel's job in `about.userId`.
   */
  deliveries?: readonly Queue[];
  /** Deletes what a channel keeps of its own about a conversation (web-chat sessions). */
  forget?: (ref: ConversationRef) => Promise<number>;
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
  readonly #deliveries: readonly Queue[];
  readonly #context: ContextStore;
  readonly #forget: ((ref: ConversationRef) => Promise<number>) | undefined;

  constructor({ redis, keys, insights, context, deliveries, forget }: UserDataEraserOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#insights = insights;
    this.#context = context;
    this.#deliveries = deliveries ?? [];
    this.#forget = forget;
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
   * Outbound messages waiting in the delivery queues (or kept there as dead letters) may name the user.
   * This is the one scan: the queues hold only undelivered, failed or recently delivered jobs, read in
   * pages.
   */
  async #eraseDeliveries(channel: Channel, userId: string): Promise<number> {
    let removed = 0;
    for (const queue of this.#deliveries) removed += await this.#eraseFrom(queue, channel, userId);
    return removed;
  }

  async #eraseFrom(queue: Queue, channel: Channel, userId: string): Promise<number> {
    let removed = 0;
    for (const state of ["waiting", "delayed", "failed", "prioritized"] as const) {
      for (let start = 0; ; start += 500) {
        const jobs = await queue.getJobs([state], start, start + 499);
        let removedHere = 0;
        for (const job of jobs) {
          const body = job.data as {
            data?: { channel?: unknown; userId?: unknown };
            about?: { channel?: unknown; userId?: unknown };
          };
          const named = body.about ?? body.data;
          const mine = named?.userId === userId && (named.channel === undefined || named.channel === channel);
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
    const messageIds = new Set<string>((await this.#context.load(ref)).map((t) => t.id));
    for (const [, fields] of (await this.#redis.xrange(k.conversationLog(ref), "-", "+")) as [
      string,
      string[],
    ][]) {
      const i = fields.indexOf("m");
      const id = i >= 0 ? fields[i + 1] : undefined;
      if (id) messageIds.add(id);
    }
    const id = handoffIdOf(ref);
    // Every key here carries the conversation's hash tag (one cluster slot), so one DEL per batch works
    // on a Redis Cluster too.
    const doomed = [
      k.context(ref),
      k.contextFeedback(ref),
      k.conversationLog(ref),
      k.lastMessage(ref),
      k.handoffState(id),
      k.handoffLog(id),
      ...[...messageIds].flatMap((m) => [k.message(m), k.reply(m), k.handoffAsked(ref, m)]),
    ];
    await this.#redis.zrem(k.handoffsOpen(), id);
    let deleted = 0;
    for (let i = 0; i < doomed.length; i += 500)
      deleted += await this.#redis.del(...doomed.slice(i, i + 500));
    if (this.#forget) deleted += await this.#forget(ref);
    return deleted;
  }
}
