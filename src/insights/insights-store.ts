import type { Redis } from "ioredis";
import type { Channel, ConversationRef } from "../conversation/inbound-message.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { LuaScript } from "../redis/lua-script.ts";

/** Why a question is worth a curator's look. */
export type GapReason = "no_answer" | "low_confidence" | "downvote" | "handoff";

/** The knowledge file that came closest to a gap's question. */
export interface ClosestFile {
  path: string;
  title: string;
  score: number;
}

/** One question the bot could not (or not well enough) answer; the question is already redacted. */
export interface GapRecord {
  at: number;
  channel: Channel;
  tenant: string;
  userId: string;
  question: string;
  reason: GapReason;
  closest: ClosestFile[];
  /** The answer's message id, when the gap is about one answer. */
  messageId?: string;
}

/**
 * Analytics events, one stream entry each: `q` question accepted, `a` answer delivered (kind, ttft ms),
 * `f` feedback (vote), `h` handoff. No message text is ever stored here.
 */
export type InsightEvent =
  | {
      type: "q";
      at: number;
      channel: string;
      tenant: string;
      conversationKey: string;
      userId: string;
      messageId: string;
    }
  | { type: "a"; at: number; channel: string; messageId: string; kind: string; ttftMs: number }
  | {
      type: "f";
      at: number;
      channel: string;
      tenant: string;
      userId: string;
      messageId: string;
      vote: "up" | "down";
    }
  | { type: "h"; at: number; channel: string; tenant: string; userId: string; conversationKey: string };

export interface InsightsStoreOptions {
  redis: Redis;
  keys: Keyspace;
  /** Entries older than this are trimmed (MINID) on every write and by the retention sweep. */
  retentionMs: number;
  now?: () => number;
}

/**
 * XADD the event (trimmed by age), then SADD `["ev", id]` (and the conversation's member) to the user's
 * index and refresh its expiry. The events stream and every user index share one hash tag.
 */
const RECORD_EVENT = new LuaScript(
  `local id = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[1], '*', 't', ARGV[2], 'd', ARGV[3])
if ARGV[4] == '1' then
  redis.call('SADD', KEYS[2], '["ev","' .. id .. '"]')
  if ARGV[5] ~= '' then redis.call('SADD', KEYS[2], ARGV[5]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return id`,
  2,
);

/**
 * Events and gaps as Redis streams, trimmed by age with `XADD ... MINID ~ <cutoff>` so that retention
 * costs nothing extra per write. Every entry that names a user is also listed in that user's index set
 * (`user:<channel>:<userId>`) so that a privacy deletion removes exactly their entries without a scan.
 */
export class InsightsStore {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #retentionMs: number;
  readonly #now: () => number;

  constructor({ redis, keys, retentionMs, now = Date.now }: InsightsStoreOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#retentionMs = retentionMs;
    this.#now = now;
  }

  get eventsKey(): string {
    return this.#keys.insights().events;
  }

  get gapsKey(): string {
    return this.#keys.insights().gaps;
  }

  userKey(channel: string, userId: string): string {
    return this.#keys.userIndex(channel, userId);
  }

  /** The oldest stream id retention keeps. */
  cutoffId(): string {
    return `${Math.max(0, this.#now() - this.#retentionMs)}-0`;
  }

  /**
   * Appends an event and lists it (and, with `conversation`, the conversation it happened in) in its
   * user's index: one script, one round trip.
   */
  async recordEvent(
    event: InsightEvent,
    { conversation }: { conversation?: ConversationRef } = {},
  ): Promise<string> {
    const { type, ...rest } = event;
    const userKey = "userId" in event ? this.userKey(event.channel, event.userId) : this.eventsKey;
    return (await RECORD_EVENT.run(
      this.#redis,
      [this.eventsKey, userKey],
      [
        this.cutoffId(),
        type,
        JSON.stringify(rest),
        "userId" in event ? "1" : "0",
        conversation ? JSON.stringify(["conv", conversation.tenant, conversation.conversationKey]) : "",
        this.#retentionMs,
      ],
    )) as string;
  }

  /**
   * Stores a gap once per reason and answer (a user flipping a vote, or a retried handoff, does not
   * count twice).
   */
  async recordGap(gap: GapRecord): Promise<string | undefined> {
    if (gap.messageId) {
      const once = await this.#redis.set(
        this.#keys.insights().gapSeen(gap.reason, gap.messageId),
        "1",
        "PX",
        this.#retentionMs,
        "NX",
      );
      if (once === null) return undefined;
    }
    const id = (await this.#redis.xadd(
      this.gapsKey,
      "MINID",
      "~",
      this.cutoffId(),
      "*",
      "d",
      JSON.stringify(gap),
    )) as string;
    await this.#index(gap.channel, gap.userId, ["gap", id]);
    return id;
  }

  /** Remembers that a user took part in a conversation (for deleting it on a privacy request). */
  async noteConversation(userId: string, ref: ConversationRef): Promise<void> {
    await this.#index(ref.channel, userId, ["conv", ref.tenant, ref.conversationKey]);
  }

  async events(sinceMs: number): Promise<InsightEvent[]> {
    return (await this.eventsFrom(`${Math.max(0, sinceMs)}-0`)).events;
  }

  /**
   * Events from a stream id on (`(id` excludes it), with the last id read, so a caller can follow the
   * stream incrementally instead of re-reading the window.
   */
  async eventsFrom(start: string): Promise<{ events: InsightEvent[]; lastId: string | undefined }> {
    const events: InsightEvent[] = [];
    let lastId: string | undefined;
    for await (const [id, fields] of this.#range(this.eventsKey, start)) {
      const t = fields[1];
      const d = fields[3];
      if (t && d) events.push({ type: t, ...JSON.parse(d) } as InsightEvent);
      lastId = id;
    }
    return { events, lastId };
  }

  async gaps(sinceMs: number): Promise<GapRecord[]> {
    const out: GapRecord[] = [];
    for await (const [, fields] of this.#range(this.gapsKey, `${Math.max(0, sinceMs)}-0`)) {
      const d = fields[1];
      if (d) out.push(JSON.parse(d) as GapRecord);
    }
    return out;
  }

  /** Drops entries past retention (writes trim too; this covers quiet periods). Returns entries removed. */
  async trim(): Promise<number> {
    const cutoff = this.cutoffId();
    const [a, b] = await Promise.all([
      this.#redis.xtrim(this.eventsKey, "MINID", cutoff),
      this.#redis.xtrim(this.gapsKey, "MINID", cutoff),
    ]);
    return Number(a) + Number(b);
  }

  async #index(channel: string, userId: string, member: string[]): Promise<void> {
    const key = this.userKey(channel, userId);
    await this.#redis.multi().sadd(key, JSON.stringify(member)).pexpire(key, this.#retentionMs).exec();
  }

  async *#range(key: string, from: string): AsyncGenerator<[string, string[]]> {
    let start = from;
    for (;;) {
      const page = (await this.#redis.xrange(key, start, "+", "COUNT", 1000)) as [string, string[]][];
      for (const entry of page) yield entry;
      if (page.length < 1000) return;
      const last = page.at(-1)?.[0] ?? start;
      start = `(${last}`;
    }
  }
}
