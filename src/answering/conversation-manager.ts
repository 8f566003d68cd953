import type { Queue } from "bullmq";
import type { Config } from "../config.ts";
import type { ContextStore } from "../conversation/context-store.ts";
import type {
  Conversations,
  FollowOptions,
  LoggedMessage,
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
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { type Keyspace, shardOf } from "../redis/keyspace.ts";
import { Admission } from "./admission.ts";
import { followAnswer } from "./answer-follower.ts";
import { type AnswerJob, messageIdFor } from "./answer-job.ts";
import type { AnswerLedger } from "./answer-ledger.ts";
import { compareIds, type ReplyHub } from "./reply-hub.ts";
import type { SubmissionGate } from "./submission-gate.ts";

export type { GateDecision, SubmissionGate } from "./submission-gate.ts";

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
 * The gateway's half of answering: accepts normalised messages from every channel (validates, dedupes,
 * admits, claims a place in the conversation's order, enqueues one answer job per platform message), and
 * streams answers back to channel sinks. Knowledge retrieval is the worker's, so accepting a message
 * costs a few Redis round trips and no search.
 */
export class ConversationManager implements Conversations {
  readonly #o: ConversationManagerOptions;
  readonly #log: Logger;
  readonly #admission: Admission;

  constructor(options: ConversationManagerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "conversation-manager" });
    this.#admission = new Admission({
      config: options.config,
      queue: options.queue,
      rateLimiter: options.rateLimiter,
      metrics: options.metrics,
    });
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
    // The duplicate check and what the gate reads share one round trip.
    const [seen, prepared] = await Promise.all([ledger.exists(messageId), this.#o.gate?.prepare?.(msg)]);
    // A redelivery is not counted against limits: it only heals a lost enqueue (see #enqueue).
    if (seen) return this.#enqueue(msg, text, messageId, true);
    let release: (enqueued: boolean) => void;
    try {
      release = await this.#admission.admit(msg);
    } catch (error) {
      if (error instanceof GatewayError) metrics.rejected.inc({ channel: msg.channel, code: error.code });
      throw error;
    }
    let enqueued = false;
    try {
      const submission = await this.#enqueue(msg, text, messageId, false, prepared);
      enqueued = !submission.duplicate && !submission.handedOff;
      return submission;
    } finally {
      release(enqueued);
    }
  }

  async #enqueue(
    msg: InboundMessage,
    text: string,
    messageId: string,
    seen: boolean,
    prepared?: unknown,
  ): Promise<Submission> {
    const { ledger, metrics, gate } = this.#o;
    const ref = conversationRefOf(msg);
    if (!seen && gate) {
      const decision = await gate.decide(msg, text, prepared);
      if (decision.action === "silent") return { messageId, duplicate: false, handedOff: true };
      if (decision.action === "reply") return this.#replyFixed(msg, messageId, decision.text);
    }
    const acceptedAt = Date.now();
    const claim = await ledger.claim(ref, messageId, acceptedAt);
    if (claim.duplicate && claim.state === "done") return { messageId, duplicate: true };
    const job: AnswerJob = {
      v: 2,
      messageId,
      conversation: ref,
      userId: msg.userId,
      question: text,
      previousMessageId: claim.previousMessageId,
      acceptedAt,
      ...(msg.lang ? { lang: msg.lang } : {}),
    };
    // Re-adding an existing job id is a no-op in BullMQ, so a duplicate delivery also heals the case
    // where the first delivery was claimed but its enqueue never happened (gateway crash in between).
    await this.#o.queue.add("answer", job, { ...JOB_OPTIONS, jobId: messageId });
    if (!claim.duplicate) {
      metrics.messages.inc({ channel: msg.channel });
      // Analytics is not the user's wait: recorded alongside, a failure only logged.
      void gate
        ?.accepted(msg, messageId)
        .catch((error: unknown) =>
          this.#log.warn({ err: (error as Error).message }, "analytics not recorded"),
        );
    }
    return { messageId, duplicate: claim.duplicate, acceptedAt };
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
    let known = options.known;
    const resuming = options.after !== undefined && options.after !== "0";
    if (!known || resuming) {
      const record = await ledger.record(messageId);
      if (record === undefined) throw new GatewayError(ErrorCode.NotFound, `Unknown message ${messageId}.`);
      known = { acceptedAt: record.acceptedAt, channel: record.channel };
      if (resuming && record.state === "done") {
        // Resuming at (or after) a finished answer's last entry: nothing is left to send for it.
        const lastId = await ledger.lastReplyEntryId(messageId);
        if (lastId === undefined || compareIds(lastId, options.after as string) <= 0) return;
      }
    }
    const { acceptedAt, channel } = known;
    let firstChunk = true;
    const measured: ReplySink = {
      onStart: async () => {
        metrics.queueWait.observe({ channel }, (Date.now() - acceptedAt) / 1000);
        await sink.onStart?.();
      },
      onChunk: async (text) => {
        if (firstChunk) metrics.timeToFirstToken.observe({ channel }, (Date.now() - acceptedAt) / 1000);
        firstChunk = false;
        await sink.onChunk(text);
      },
      onFinal: async (answer) => {
        metrics.answerTime.observe({ channel }, (Date.now() - acceptedAt) / 1000);
        metrics.answers.inc({ channel, outcome: answer.kind });
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

  watch(ref: ConversationRef, after: string, onMessage: (message: LoggedMessage) => void): () => void {
    return this.#o.hub.subscribe(this.#o.ledger.conversationLogKey(ref), after, (fields, logId) => {
      const field = (name: string) => {
        const i = fields.indexOf(name);
        return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
      };
      const messageId = field("m");
      if (!messageId) return;
      const at = Number(field("at"));
      const channel = field("ch");
      onMessage({
        messageId,
        logId,
        // Entries written before the log carried them (an upgrade) are looked up when followed.
        ...(Number.isFinite(at) && channel ? { known: { acceptedAt: at, channel } } : {}),
      });
    });
  }

  async cancel(messageId: string): Promise<void> {
    await this.#o.ledger.markCancelled(messageId);
    await this.#o.publishCancel(messageId);
  }

  /** Jobs waiting or running (sampled), for /metrics and the queue bound. */
  queueDepth(): Promise<number> {
    return this.#admission.depth();
  }
}
