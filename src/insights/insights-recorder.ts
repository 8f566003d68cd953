import type { FeedbackInput, TurnFeedback } from "../conversation/feedback.ts";
import type { ConversationRef, InboundMessage } from "../conversation/inbound-message.ts";
import type { Turn } from "../conversation/turn.ts";
import type { HandoffRecord } from "../handoff/handoff-service.ts";
import type { RankedChunk } from "../knowledge/knowledge-index.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { ClosestFile, GapReason, InsightsStore } from "./insights-store.ts";
import type { Redactor } from "./redaction.ts";

export interface InsightsRecorderOptions {
  store: InsightsStore;
  redactor: Redactor;
  /** The knowledge base's full ranking, for the files closest to a gap's question. */
  search?: (query: string, limit: number) => Promise<RankedChunk[]>;
  /** A conversation's kept turns, to find the question a vote is about. */
  turns: (ref: ConversationRef) => Promise<Turn[]>;
  metrics?: Metrics;
  logger: Logger;
  now?: () => number;
}

/**
 * Turns what happens in conversations into analytics events and curator gaps: a question with no
 * relevant snippet, a thumbs down, a handoff. Questions are redacted before they are stored.
 */
export class InsightsRecorder {
  readonly #o: InsightsRecorderOptions;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(options: InsightsRecorderOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ component: "insights" });
  }

  /** A question was accepted (the gateway records it; its outcome comes later from the worker). */
  async question(msg: InboundMessage, messageId: string): Promise<void> {
    await this.#o.store.recordEvent(
      {
        type: "q",
        at: this.#now(),
        channel: msg.channel,
        tenant: msg.tenant,
        conversationKey: msg.conversationKey,
        userId: msg.userId,
        messageId,
      },
      { conversation: msg },
    );
  }

  /** The folder had nothing on a question (the bot said it doesn't know): a gap for the curators. */
  async unanswered(ref: ConversationRef, userId: string, question: string, messageId: string): Promise<void> {
    await this.#gap("no_answer", ref, userId, question, messageId);
  }

  /** Answered, but with a confidence close to the caution line: the curators should see it too. */
  async lowConfidence(
    ref: ConversationRef,
    userId: string,
    question: string,
    messageId: string,
  ): Promise<void> {
    await this.#gap("low_confidence", ref, userId, question, messageId);
  }

  /** Lists the conversation under its user, for privacy deletion (also for messages never answered). */
  async noteConversation(msg: InboundMessage): Promise<void> {
    await this.#o.store.noteConversation(msg.userId, msg);
  }

  async answered(info: { messageId: string; channel: string; kind: string; ttftMs: number }): Promise<void> {
    await this.#o.store.recordEvent({ type: "a", at: this.#now(), ...info });
  }

  async feedback(input: FeedbackInput, feedback: TurnFeedback): Promise<void> {
    await this.#o.store.recordEvent({
      type: "f",
      at: feedback.at,
      channel: input.ref.channel,
      tenant: input.ref.tenant,
      userId: input.userId,
      messageId: input.turnId,
      vote: feedback.vote,
    });
    this.#o.metrics?.feedback.inc({ channel: input.ref.channel, vote: feedback.vote });
    if (feedback.vote !== "down") return;
    const turn = (await this.#o.turns(input.ref)).find((t) => t.id === input.turnId);
    if (turn) await this.#gap("downvote", input.ref, input.userId, turn.question, input.turnId);
  }

  async handoff(record: HandoffRecord): Promise<void> {
    await this.#o.store.recordEvent({
      type: "h",
      at: record.requestedAt,
      channel: record.channel,
      tenant: record.tenant,
      userId: record.userId,
      conversationKey: record.conversationKey,
    });
    this.#o.metrics?.handoffs.inc({ channel: record.channel });
    await this.#gap("handoff", record, record.userId, record.question, record.turnId);
  }

  async #gap(reason: GapReason, ref: ConversationRef, userId: string, question: string, messageId?: string) {
    const redacted = this.#o.redactor.redact(question.trim()).slice(0, 500);
    const closest = await this.#closest(question);
    const id = await this.#o.store.recordGap({
      at: this.#now(),
      channel: ref.channel,
      tenant: ref.tenant,
      userId,
      question: redacted,
      reason,
      closest,
      ...(messageId ? { messageId } : {}),
    });
    if (id) {
      this.#o.metrics?.gaps.inc({ channel: ref.channel, reason });
      this.#log.info({ reason, channel: ref.channel }, "gap recorded");
    }
  }

  async #closest(question: string): Promise<ClosestFile[]> {
    if (!this.#o.search) return [];
    const ranked = await this.#o.search(question, 10).catch(() => []);
    const byPath = new Map<string, ClosestFile>();
    for (const r of ranked) {
      if (!byPath.has(r.chunk.path)) {
        byPath.set(r.chunk.path, {
          path: r.chunk.path,
          title: r.chunk.title,
          score: Number(r.relevance.toFixed(3)),
        });
      }
    }
    return [...byPath.values()].slice(0, 3);
  }
}
