import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Channel, ConversationRef } from "../conversation/inbound-message.ts";
import type { Turn } from "../conversation/turn.ts";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Citation } from "../knowledge/citation.ts";
import type { Logger } from "../logger.ts";
import { type Keyspace, shardOf } from "../redis/keyspace.ts";

/** The stable id of a conversation's handoff (admin API, "Return to bot" buttons, webhook payloads). */
export function handoffIdOf(ref: ConversationRef): string {
  const digest = createHash("sha256")
    .update(`${ref.channel}\u0000${ref.tenant}\u0000${ref.conversationKey}`)
    .digest("hex");
  // "h", then the conversation's shard (its state shares the conversation's hash tag), then the digest.
  return `h${shardOf(ref)}${digest.slice(0, 22)}`;
}

/** Everything a person taking over needs, channel-neutral. */
export interface HandoffRecord {
  /** handoffIdOf(the conversation): what release and reply calls name. */
  id?: string;
  channel: Channel;
  tenant: string;
  conversationKey: string;
  /** Who asked for a person. */
  userId: string;
  /** The question the person is stuck on (the last kept turn's question). */
  question: string;
  /** The bot's last answer to it. */
  answer: string;
  citations: Citation[];
  /** Every kept turn, oldest first (includes the last one). */
  transcript: Turn[];
  /** The answer the request was made from, when known. */
  turnId?: string;
  /** Where to find the conversation (e.g. a Slack permalink), when the channel knows. */
  link?: string;
  requestedAt: number;
}

/** Somewhere a handoff can go: a Slack support channel, a Teams conversation, a webhook. */
export interface HandoffDestination {
  readonly name: string;
  deliver(record: HandoffRecord): Promise<void>;
}

export interface HandoffRequest {
  ref: ConversationRef;
  userId: string;
  turnId?: string;
  link?: string;
  /**
   * The user's own words when they asked for a person in a message; used as the question when the
   * conversation has no kept turn yet (someone whose first message is "talk to a person").
   */
  question?: string;
}

/**
 * Where the "handed off" state of conversations lives (Redis in the gateway). While a conversation is
 * open here the bot stays silent in it.
 */
export interface HandoffStates {
  open(record: HandoffRecord): Promise<void>;
  /** Returns the conversation to the bot; false when it was not handed off. */
  release(id: string, by: string): Promise<boolean>;
  /**
   * Someone wrote in the conversation: when it is handed off and the writer is not the asker, it is now
   * with a person. True when that changed its state.
   */
  takenByPerson?(ref: ConversationRef, userId: string): Promise<boolean>;
}

export interface HandoffResult {
  /** False when this conversation's handoff was already requested (a second click). */
  accepted: boolean;
  /** Names of the destinations that took the record. */
  deliveredTo: string[];
  record?: HandoffRecord;
  /** What to tell the user now (the configured handoff message), when the request was accepted. */
  notice?: string;
}

export interface HandoffServiceOptions {
  /** Reads the conversation's kept turns (the Conversations port's `turns`). */
  turns: (ref: ConversationRef) => Promise<Turn[]>;
  logger: Logger;
  /** When given, repeated requests for the same answer are delivered once. */
  redis?: Redis;
  /** Where the "already asked" markers live (with `redis`). */
  keys?: Keyspace;
  /** How long a request blocks a repeat, in seconds. @defaultValue 86400 */
  dedupeTtlSeconds?: number;
  now?: () => number;
  /** Marks conversations handed off, so that the bot stays silent until released. */
  states?: HandoffStates;
  /** The "what happens next" text for the user (admin settings); returned with accepted requests. */
  notice?: () => Promise<string>;
}

/**
 * Hands a conversation to a person: builds one record from the kept turns and delivers it to every
 * registered destination. Channels register their own destination; the service knows none of them.
 */
export class HandoffService {
  readonly #destinations = new Map<string, HandoffDestination>();
  readonly #turns: HandoffServiceOptions["turns"];
  readonly #logger: Logger;
  readonly #redis: Redis | undefined;
  readonly #keys: Keyspace | undefined;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #states: HandoffStates | undefined;
  readonly #notice: (() => Promise<string>) | undefined;
  readonly #listeners: ((record: HandoffRecord) => Promise<void>)[] = [];

  constructor({
    turns,
    logger,
    redis,
    keys,
    dedupeTtlSeconds = 86_400,
    now = Date.now,
    states,
    notice,
  }: HandoffServiceOptions) {
    this.#states = states;
    this.#notice = notice;
    this.#turns = turns;
    this.#logger = logger.child({ component: "handoff" });
    this.#redis = redis;
    this.#keys = keys;
    this.#ttl = dedupeTtlSeconds;
    this.#now = now;
  }

  /** Adds a destination; a second one with the same name replaces the first. */
  register(destination: HandoffDestination): void {
    this.#destinations.set(destination.name, destination);
  }

  get destinations(): string[] {
    return [...this.#destinations.keys()];
  }

  /** Runs after every accepted handoff (analytics, gap recording); a failing listener is logged only. */
  onHandoff(listener: (record: HandoffRecord) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /**
   * Returns a handed-off conversation to the bot ("Return to bot" button, admin API, release phrase).
   * @returns false when the conversation was not handed off (already released or expired).
   */
  async release(id: string, by: string): Promise<boolean> {
    if (!this.#states) return false;
    const released = await this.#states.release(id, by);
    if (released) this.#logger.info({ handoff: id, by }, "conversation returned to the bot");
    return released;
  }

  /**
   * A message in a handed-off conversation that the channel does not submit (a support person's reply
   * in a Slack thread without mentioning the bot): marks the hand-off taken by a person when the writer
   * is not the asker. False when nothing changed (not handed off, the asker, already taken).
   */
  async personReplied(ref: ConversationRef, userId: string): Promise<boolean> {
    const taken = (await this.#states?.takenByPerson?.(ref, userId)) ?? false;
    if (taken)
      this.#logger.info({ handoff: handoffIdOf(ref) }, "hand-off taken by a person in the conversation");
    return taken;
  }

  /**
   * Builds the record and delivers it everywhere.
   * @throws GatewayError not_found when the conversation has no kept turns, delivery_failed when no
   *   destination is registered or every destination failed (the request may then be repeated).
   */
  async request(request: HandoffRequest): Promise<HandoffResult> {
    if (this.#destinations.size === 0) {
      throw new GatewayError(
        ErrorCode.DeliveryFailed,
        "No handoff destination is configured: set SLACK_HANDOFF_CHANNEL, TEAMS_HANDOFF_CONVERSATION or HANDOFF_WEBHOOK_URL.",
      );
    }
    const transcript = await this.#turns(request.ref);
    const kept =
      (request.turnId === undefined ? undefined : transcript.find((t) => t.id === request.turnId)) ??
      transcript.at(-1);
    // Asked for a person before any answer: the request itself is the question.
    const last: Turn | undefined =
      kept ??
      (request.question
        ? { id: `ask-${this.#now()}`, question: request.question, answer: "", citations: [], at: this.#now() }
        : undefined);
    if (last === undefined) {
      throw new GatewayError(
        ErrorCode.NotFound,
        "This conversation has no kept messages to hand over; ask the question again, then ask for a person.",
      );
    }
    const dedupeKey = this.#dedupeKey(request.ref, last.id);
    if (this.#redis && dedupeKey) {
      const set = await this.#redis.set(dedupeKey, String(this.#now()), "EX", this.#ttl, "NX");
      if (set === null) return { accepted: false, deliveredTo: [] };
    }
    const record: HandoffRecord = {
      id: handoffIdOf(request.ref),
      channel: request.ref.channel,
      tenant: request.ref.tenant,
      conversationKey: request.ref.conversationKey,
      userId: request.userId,
      question: last.question,
      answer: last.answer,
      citations: last.citations,
      transcript,
      turnId: last.id,
      requestedAt: this.#now(),
    };
    if (request.link) record.link = request.link;
    const results = await Promise.allSettled([...this.#destinations.values()].map((d) => d.deliver(record)));
    const deliveredTo: string[] = [];
    const names = [...this.#destinations.keys()];
    results.forEach((result, i) => {
      const name = names[i] ?? "?";
      if (result.status === "fulfilled") deliveredTo.push(name);
      else this.#logger.error({ destination: name, err: result.reason }, "handoff delivery failed");
    });
    if (deliveredTo.length === 0) {
      // Let the person ask again: the failure was ours, not theirs.
      if (this.#redis && dedupeKey) await this.#redis.del(dedupeKey);
      throw new GatewayError(
        ErrorCode.DeliveryFailed,
        "The handoff could not be delivered; try again in a minute.",
      );
    }
    this.#logger.info(
      {
        channel: record.channel,
        tenant: record.tenant,
        turnId: record.turnId,
        user: record.userId,
        deliveredTo,
      },
      "conversation handed off",
    );
    await this.#states?.open(record);
    for (const listener of this.#listeners) {
      await listener(record).catch((error: unknown) =>
        this.#logger.warn({ err: (error as Error).message }, "handoff listener failed"),
      );
    }
    const text = await this.#notice?.().catch(() => undefined);
    return { accepted: true, deliveredTo, record, ...(text ? { notice: text } : {}) };
  }

  #dedupeKey(ref: ConversationRef, turnId: string): string | undefined {
    return this.#keys?.handoffAsked(ref, turnId);
  }
}
