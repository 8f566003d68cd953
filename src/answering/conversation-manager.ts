import type { Queue } from "bullmq";
import type { Config } from "../config.ts";
import type { ContextStore } from "../conversation/context-store.ts";
import type {
  AnswerKind,
  Conversations,
  FollowOptions,
  ReplySink,
  Submission,
} from "../conversation/conversations.ts";
import {
  type ConversationRef,
  conversationRefOf,
  type InboundMessage,
  InboundMessageSchema,
} from "../conversation/inbound-message.ts";
import type { RateLimiter } from "../conversation/rate-limiter.ts";
import type { Turn } from "../conversation/turn.ts";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Snippet } from "../knowledge/citation.ts";
import type { Retriever } from "../knowledge/retriever.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { type Keyspace, shardOf } from "../redis/keyspace.ts";
import { followAnswer } from "./answer-follower.ts";
import { type AnswerJob, messageIdFor } from "./answer-job.ts";
import type { AnswerLedger } from "./answer-ledger.ts";
import { compareIds, type ReplyHub } from "./reply-hub.ts";

/** What a SubmissionGate decides for a new message, before any answer job exists. */
export type GateDecision =
  /** Answer normally. */
  | { action: "answer" }
  /** The conversation is with a person: enqueue nothing, tell the channel not to follow an answer. */
  | { action: "silent" }
  /** Reply with this fixed text instead of an answer (handoff requested, conversation released). */
  | { action: "reply"; text: string };

/**
 * The support loop's hook into the conversation layer: handoff state and intents before a message is
 * answered, analytics once it is accepted and once its answer is delivered.
 */
export interface SubmissionGate {
  decide(message: InboundMessage, text: string): Promise<GateDecision>;
  accepted(
    message: InboundMessage,
    messageId: string,
    snippets: Snippet[],
    knowledgeReady: boolean,
  ): Promise<void>;
  answered(info: {
    messageId: string;
    channel: string;
    kind: AnswerKind | string;
    ttftMs: number;
  }): Promise<void>;
}

export interface ConversationManagerOptions {
  config: Config;
  keys: Keyspace;
  ledger: AnswerLedger;
  contextStore: ContextStore;
  queue: Queue;
  hub: ReplyHub;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  logger: Logger;
  retriever?: Retriever;
  /** Publishes a cancellation to whichever worker holds a job. */
  publishCancel: (messageId: string) => Promise<unknown>;
  /** Handoff state, intents and analytics (absent: every message is answered, nothing recorded). */
  gate?: SubmissionGate;
}

/** Job options shared by every answer: retried twice on a worker error, kept an hour for inspection. */
const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const;

/**
 * The conversation layer: accepts normalised messages from every channel, enqueues one answer job per
 * platform message and streams answers back to channel sinks.
 */
export class ConversationManager implements Conversations {
  readonly #o: ConversationManagerOptions;
  readonly #log: Logger;
  #depth = { value: 0, at: 0 };
  #sampling: Promise<void> | undefined;
  /** Admitted by this gateway but not enqueued yet: not in a queue sample, yet already owed a slot. */
  #admitting = 0;
  /** Enqueued by this gateway so far: those since the last sample are added to it. */
  #enqueued = 0;

  constructor(options: ConversationManagerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "conversation-manager" });
  }

  async submit(message: InboundMessage): Promise<Submission> {
    const parsed = InboundMessageSchema.safeParse(message);
    if (!parsed.success) {
      throw new GatewayError(
        ErrorCode.BadRequest,
        `Invalid message: ${parsed.error.issues[0]?.message ?? "bad shape"}`,
      );
    }
    const msg = parsed.data;
    const { config, ledger, metrics } = this.#o;
    const text = msg.text.trim();
    if (text.length === 0)
      throw new GatewayError(ErrorCode.EmptyText, "The message is empty: type a question.");
    if (text.length > config.conversation.maxMessageChars) {
      throw new GatewayError(
        ErrorCode.TextTooLong,
        `The message is too long (${text.length} characters; the limit is ${config.conversation.maxMessageChars}).`,
      );
    }
    const messageId = messageIdFor(msg);
    const seen = await ledger.exists(messageId);
    if (!seen) {
      try {
        await this.#admit(msg);
      } catch (error) {
        if (error instanceof GatewayError) metrics.rejected.inc({ channel: msg.channel, code: error.code });
        throw error;
      }
    }
    if (seen) return this.#enqueue(msg, text, messageId, seen);
    try {
      const submission = await this.#enqueue(msg, text, messageId, seen);
      this.#enqueued += 1;
      this.#depth.value += 1;
      return submission;
    } finally {
      this.#admitting -= 1;
    }
  }

  async #enqueue(msg: InboundMessage, text: string, messageId: string, seen: boolean): Promise<Submission> {
    const { config, ledger, metrics } = this.#o;
    const ref = conversationRefOf(msg);
    const gate = this.#o.gate;
    if (!seen && gate) {
      const decision = await gate.decide(msg, text);
      if (decision.action === "silent") return { messageId, duplicate: false, handedOff: true };
      if (decision.action === "reply") return this.#replyFixed(msg, messageId, decision.text);
    }
    const retriever = this.#o.retriever;
    const snippets =
      retriever && !seen ? await retriever.retrieve(text, { tokenBudget: config.knowledge.tokenBudget }) : [];
    const claim = await ledger.claim(ref, messageId);
    if (claim.duplicate && claim.state === "done") return { messageId, duplicate: true };
    const job: AnswerJob = {
      v: 1,
      messageId,
      conversation: ref,
      userId: msg.userId,
      question: text,
      snippets,
      knowledgeReady: retriever?.ready ?? false,
      previousMessageId: claim.previousMessageId,
      acceptedAt: Date.now(),
    };
    // Re-adding an existing job id is a no-op in BullMQ, so a duplicate delivery also heals the case
    // where the first delivery was claimed but its enqueue never happened (gateway crash in between).
    await this.#o.queue.add("answer", job, { ...JOB_OPTIONS, jobId: messageId });
    if (!claim.duplicate) {
      metrics.messages.inc({ channel: msg.channel });
      this.#log.debug({ messageId, channel: msg.channel }, "message accepted");
      await gate
        ?.accepted(msg, messageId, snippets, job.knowledgeReady)
        .catch((error: unknown) =>
          this.#log.warn({ err: (error as Error).message }, "analytics not recorded"),
        );
    }
    return { messageId, duplicate: claim.duplicate };
  }

  /**
   * Publishes a fixed reply as this message's answer without a job: claimed and finished through the
   * ledger like any answer, so every channel's follower (and web chat's conversation log) shows it.
   */
  async #replyFixed(msg: InboundMessage, messageId: string, text: string): Promise<Submission> {
    const ref = conversationRefOf(msg);
    const claim = await this.#o.ledger.claim(ref, messageId);
    if (claim.duplicate) return { messageId, duplicate: true };
    await this.#o.ledger.finish(messageId, {
      t: "final",
      d: { text, citations: [], kind: "handoff", tokens: 0, at: Date.now() },
    });
    this.#o.metrics.messages.inc({ channel: msg.channel });
    return { messageId, duplicate: false };
  }

  /**
   * Relays a support person's text into a conversation as a reply (kind "human"), for channels that
   * show the conversation's log (web chat). Not kept as a turn: the bot's context stays its own.
   */
  async relay(ref: ConversationRef, text: string, id: string): Promise<string> {
    // Sharded like a message id, so its record and stream live with the conversation's keys.
    const messageId = `r${shardOf(ref)}${id.replace(/[^0-9a-zA-Z]/g, "").slice(0, 40)}`;
    await this.#o.ledger.claim(ref, messageId);
    await this.#o.ledger.finish(messageId, {
      t: "final",
      d: { text, citations: [], kind: "human", tokens: 0, at: Date.now() },
    });
    return messageId;
  }

  async follow(messageId: string, sink: ReplySink, options: FollowOptions = {}): Promise<void> {
    const { keys, hub, ledger, metrics } = this.#o;
    const record = await ledger.record(messageId);
    if (record === undefined) {
      throw new GatewayError(ErrorCode.NotFound, `Unknown message ${messageId}.`);
    }
    if (options.after && options.after !== "0" && record.state === "done") {
      // Resuming at (or after) a finished answer's last entry: nothing is left to send for it.
      const lastId = await ledger.lastReplyEntryId(messageId);
      if (lastId === undefined || compareIds(lastId, options.after) <= 0) return;
    }
    const { acceptedAt, channel } = record;
    let firstChunk = true;
    let firstAt: number | undefined;
    const gate = this.#o.gate;
    const measured: ReplySink = {
      onStart: async () => {
        metrics.queueWait.observe({ channel }, (Date.now() - acceptedAt) / 1000);
        await sink.onStart?.();
      },
      onChunk: async (text) => {
        if (firstChunk) metrics.timeToFirstToken.observe({ channel }, (Date.now() - acceptedAt) / 1000);
        firstChunk = false;
        firstAt ??= Date.now();
        await sink.onChunk(text);
      },
      onFinal: async (answer) => {
        metrics.answerTime.observe({ channel }, (Date.now() - acceptedAt) / 1000);
        metrics.answers.inc({ channel, outcome: answer.kind });
        await gate
          ?.answered({ messageId, channel, kind: answer.kind, ttftMs: (firstAt ?? Date.now()) - acceptedAt })
          .catch((error: unknown) =>
            this.#log.warn({ err: (error as Error).message }, "analytics not recorded"),
          );
        await sink.onFinal(answer);
      },
      onError: async (failure) => {
        metrics.answers.inc({ channel, outcome: failure.code });
        await sink.onError(failure);
      },
    };
    await followAnswer(hub, keys.reply(messageId), messageId, measured, options);
  }

  async turns(ref: ConversationRef): Promise<Turn[]> {
    return this.#o.contextStore.load(ref);
  }

  async conversationOf(messageId: string): Promise<string | undefined> {
    return (await this.#o.ledger.record(messageId))?.conversationKey;
  }

  watch(
    ref: ConversationRef,
    after: string,
    onMessage: (messageId: string, logId: string) => void,
  ): () => void {
    return this.#o.hub.subscribe(this.#o.ledger.conversationLogKey(ref), after, (fields, logId) => {
      const index = fields.indexOf("m");
      const messageId = index >= 0 ? fields[index + 1] : undefined;
      if (messageId) onMessage(messageId, logId);
    });
  }

  async cancel(messageId: string): Promise<void> {
    await this.#o.ledger.markCancelled(messageId);
    await this.#o.publishCancel(messageId);
  }

  /** Refuses a new message when its user or tenant is over the rate limit or the queue is full. */
  async #admit(msg: InboundMessage): Promise<void> {
    const { config, rateLimiter } = this.#o;
    const user = await rateLimiter.hit(
      "user",
      `${msg.channel}:${msg.tenant}:${msg.userId}`,
      config.rateLimit.userPerMinute,
    );
    if (!user.allowed) {
      throw new GatewayError(
        ErrorCode.RateLimited,
        "You are sending messages too quickly. Please wait a moment.",
        {
          retryAfterSeconds: user.retryAfterSeconds,
        },
      );
    }
    const tenant = await rateLimiter.hit(
      "tenant",
      `${msg.channel}:${msg.tenant}`,
      config.rateLimit.tenantPerMinute,
    );
    if (!tenant.allowed) {
      throw new GatewayError(
        ErrorCode.RateLimited,
        "Too many questions are arriving right now. Please try again shortly.",
        {
          retryAfterSeconds: tenant.retryAfterSeconds,
        },
      );
    }
    await this.queueDepth();
    // Read again after the await: the check and the count below must run with no await in between, so
    // a burst of concurrent requests cannot all pass on the same sample and overshoot the bound.
    if (this.#depth.value + this.#admitting >= config.queue.maxDepth) {
      throw new GatewayError(ErrorCode.Busy, "We are busy right now. Please try again shortly.", {
        retryAfterSeconds: 10,
      });
    }
    // Released once the job is in the queue (and so in the sample).
    this.#admitting += 1;
  }

  /**
   * Jobs waiting or running (sampled at most every 250 ms, one sample at a time, so a burst does not
   * hammer Redis), kept current between samples with this gateway's own enqueues, plus the messages it
   * is still enqueueing. Several gateways can overshoot the bound by what the others enqueue in 250 ms.
   */
  async queueDepth(): Promise<number> {
    if (Date.now() - this.#depth.at > 250) {
      this.#sampling ??= this.#sampleDepth().finally(() => {
        this.#sampling = undefined;
      });
      await this.#sampling;
    }
    return this.#depth.value + this.#admitting;
  }

  async #sampleDepth(): Promise<void> {
    const before = this.#enqueued;
    const counts = await this.#o.queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    // Jobs enqueued while the count was in flight may be missing from it: count them (at worst twice).
    const value = Object.values(counts).reduce((a, b) => a + b, 0) + (this.#enqueued - before);
    this.#depth = { value, at: Date.now() };
    this.#o.metrics.queueDepth.set(this.#depth.value);
  }
}
