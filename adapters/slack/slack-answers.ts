import type { webApi } from "@slack/bolt";
import { z } from "zod";
import type { Conversations, ReplySink } from "../../src/conversation/conversations.ts";
import {
  type DeliveryAttempt,
  type DeliveryQueue,
  DeliveryRefusedError,
  DeliveryRetryError,
} from "../../src/delivery/delivery-queue.ts";
import type { DeliveryQueueFactory } from "../../src/delivery/delivery-queues.ts";
import { asCodedError, ErrorCode } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { AnswerControls } from "./slack-blocks.ts";
import { slackDeliveryError } from "./slack-delivery-errors.ts";
import type { SlackReplyTarget } from "./slack-message.ts";
import { SlackReplySink, type StreamingSupport } from "./slack-reply-sink.ts";

/** One accepted message whose answer is owed to a Slack thread. Version 1. */
export const SlackAnswerJobSchema = z.object({
  v: z.literal(1),
  messageId: z.string().min(1),
  conversationKey: z.string().min(1),
  target: z.object({
    channel: z.string(),
    threadTs: z.string(),
    messageTs: z.string(),
    userId: z.string(),
    teamId: z.string(),
    tenant: z.string(),
    isDirect: z.boolean(),
  }),
  /** Whom the answer is for (privacy erasure finds the job by this). */
  about: z.object({ channel: z.literal("slack"), userId: z.string() }),
  /** The message an earlier attempt began: a later attempt finishes it instead of posting another. */
  posted: z.object({ ts: z.string(), mode: z.enum(["stream", "post"]) }).optional(),
});
export type SlackAnswerJob = z.infer<typeof SlackAnswerJobSchema>;

export interface SlackAnswersOptions {
  queues: DeliveryQueueFactory;
  client: webApi.WebClient;
  conversations: Conversations;
  streaming: StreamingSupport;
  /** Which buttons go under an answer (decided per answer). */
  controls: () => AnswerControls;
  logger: Logger;
  /** Longest wait for one answer before the attempt counts as failed (the model's timeout plus margin). */
  followTimeoutMs: number;
  /** How long a delivered answer's job is kept, so that a redelivered event adds nothing. */
  keepDeliveredSeconds: number;
  /** Answers one gateway streams at once. @defaultValue 200 */
  concurrency?: number;
  appendIntervalMs?: number;
  updateIntervalMs?: number;
}

/**
 * Slack answers as delivery jobs: an answer is owed from the moment its message is accepted (the job is
 * stored before Slack gets its 200) until Slack has the final text. Any gateway's worker streams it into
 * the thread; a gateway that dies mid-answer loses its lock and another one takes the job over, and a
 * Slack that refuses past the client's own retries gets the answer on a later attempt, written into the
 * message the first attempt began (never a second message).
 */
export class SlackAnswers {
  readonly #o: SlackAnswersOptions;
  readonly #queue: DeliveryQueue<SlackAnswerJob>;
  readonly #log: Logger;

  constructor(options: SlackAnswersOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "slack-answers" });
    this.#queue = options.queues.create({
      name: "answers",
      schema: SlackAnswerJobSchema,
      deliver: (job, attempt) => this.#deliver(job, attempt),
      concurrency: options.concurrency ?? 200,
      keepDeliveredSeconds: options.keepDeliveredSeconds,
      // Slack is down for a while at most: 12 attempts from 2 s doubling reach about an hour and a half.
      backoffMs: 2000,
    });
  }

  get queue(): DeliveryQueue<SlackAnswerJob> {
    return this.#queue;
  }

  /** Stores the answer as owed (once per message id, however often the event arrives). */
  async accept(messageId: string, target: SlackReplyTarget, conversationKey: string): Promise<void> {
    await this.#queue.add(
      { v: 1, messageId, conversationKey, target, about: { channel: "slack", userId: target.userId } },
      { id: `answer-${messageId}` },
    );
  }

  async #deliver(job: SlackAnswerJob, attempt: DeliveryAttempt<SlackAnswerJob>): Promise<void> {
    const { messageId } = job;
    const o = this.#o;
    const sink = new SlackReplySink({
      client: o.client,
      target: job.target,
      messageId,
      conversationKey: job.conversationKey,
      controls: o.controls(),
      streaming: o.streaming,
      logger: o.logger,
      resume: job.posted,
      onPosted: (posted) => attempt.save({ ...job, posted }),
      ...(o.appendIntervalMs !== undefined ? { appendIntervalMs: o.appendIntervalMs } : {}),
      ...(o.updateIntervalMs !== undefined ? { updateIntervalMs: o.updateIntervalMs } : {}),
    });
    if (attempt.attempt === 1 && !job.posted) sink.acknowledge();
    let delivered = false;
    const tracked: ReplySink = {
      onChunk: (text) => sink.onChunk(text),
      onFinal: async (answer) => {
        await sink.onFinal(answer);
        delivered = true;
      },
      onError: async (failure) => {
        await sink.onError(failure);
        delivered = true;
      },
    };
    try {
      await o.conversations.follow(messageId, tracked, {
        signal: AbortSignal.any([AbortSignal.timeout(o.followTimeoutMs), attempt.signal]),
      });
    } catch (error) {
      if (asCodedError(error).code === ErrorCode.NotFound) {
        // The message expired before its answer reached Slack: nothing can be delivered any more.
        throw new DeliveryRefusedError(`Message ${messageId} is no longer known; its answer cannot be sent.`);
      }
      throw slackDeliveryError(error);
    }
    if (!delivered) throw new DeliveryRetryError("No final answer within the follow timeout.");
    if (attempt.attempt > 1)
      this.#log.info({ messageId, attempt: attempt.attempt }, "slack answer delivered");
  }
}
