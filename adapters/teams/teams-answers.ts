import type { ConversationReference } from "botbuilder";
import { z } from "zod";
import type { Conversations } from "../../src/conversation/conversations.ts";
import {
  type DeliveryAttempt,
  type DeliveryQueue,
  DeliveryRefusedError,
  DeliveryRetryError,
} from "../../src/delivery/delivery-queue.ts";
import type { DeliveryQueueFactory } from "../../src/delivery/delivery-queues.ts";
import { asCodedError, ErrorCode } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";
import type { TeamsConnector } from "./teams-connector.ts";
import { TeamsReplySink } from "./teams-reply-sink.ts";
import { guarded, sentKey } from "./teams-turn-handler.ts";

/** A conversation reference as botbuilder builds it: stored as is, read back by botbuilder. */
export const ReferenceSchema = z.record(z.string(), z.unknown());

/** One accepted Teams message whose answer is owed. Version 1. */
export const TeamsAnswerJobSchema = z.object({
  v: z.literal(1),
  messageId: z.string().min(1),
  reference: ReferenceSchema,
  scope: z.enum(["personal", "channel", "groupChat"]),
  /** Whom the answer is for (privacy erasure finds the job by this). */
  about: z.object({ channel: z.literal("teams"), userId: z.string() }),
});
export type TeamsAnswerJob = z.infer<typeof TeamsAnswerJobSchema>;

export interface TeamsAnswersOptions {
  queues: DeliveryQueueFactory;
  connector: TeamsConnector;
  conversations: Conversations;
  redis: ChannelRedis;
  keys: ChannelKeys;
  logger: Logger;
  /** Offer "Talk to a person" / Teams' thumbs under answers (decided per answer). */
  controls: () => { handoff: boolean; feedback: boolean };
  /** How long feedback can name an answer's activity, and a delivered job is kept (dedupe). */
  keepSeconds: number;
  /** Longest wait for one answer before the attempt counts as failed. */
  followTimeoutMs: number;
  streamIntervalMs?: number;
  typingIntervalMs?: number;
  /** Answers one gateway delivers at once. @defaultValue 200 */
  concurrency?: number;
}

/**
 * Teams answers as delivery jobs. Teams does not redeliver an activity it got a 200 for, so the answer is
 * stored as owed before the 200: any gateway's worker then shows typing, streams it (1:1 chats) and sends
 * the final message; a gateway that dies mid-answer loses its lock and another takes the job over; a
 * connector that stays unavailable past the SDK's own retries gets the answer on a later attempt (as one
 * message: a stream cannot be resumed), and one out of attempts is a dead letter.
 */
export class TeamsAnswers {
  readonly #o: TeamsAnswersOptions;
  readonly #queue: DeliveryQueue<TeamsAnswerJob>;

  constructor(options: TeamsAnswersOptions) {
    this.#o = options;
    this.#queue = options.queues.create({
      name: "answers",
      schema: TeamsAnswerJobSchema,
      deliver: (job, attempt) => this.#deliver(job, attempt),
      concurrency: options.concurrency ?? 200,
      keepDeliveredSeconds: options.keepSeconds,
      backoffMs: 2000,
    });
  }

  get queue(): DeliveryQueue<TeamsAnswerJob> {
    return this.#queue;
  }

  /** Stores the answer as owed; a redelivered activity (same message id) adds nothing. */
  async accept(job: Omit<TeamsAnswerJob, "v">): Promise<void> {
    await this.#queue.add({ v: 1, ...job }, { id: `answer-${job.messageId}` });
  }

  async #deliver(job: TeamsAnswerJob, attempt: DeliveryAttempt<TeamsAnswerJob>): Promise<void> {
    const o = this.#o;
    const reference = job.reference as Partial<ConversationReference>;
    const conversationId = reference.conversation?.id ?? "";
    const controls = o.controls();
    const sink = new TeamsReplySink({
      connector: o.connector,
      reference,
      scope: job.scope,
      messageId: job.messageId,
      logger: o.logger,
      stream: attempt.attempt === 1,
      handoff: controls.handoff,
      feedback: controls.feedback,
      ...(o.streamIntervalMs === undefined ? {} : { streamIntervalMs: o.streamIntervalMs }),
      ...(o.typingIntervalMs === undefined ? {} : { typingIntervalMs: o.typingIntervalMs }),
      onDelivered: async (activityIds) => {
        const multi = o.redis.multi();
        for (const activityId of activityIds)
          multi.set(sentKey(o.keys, conversationId, activityId), job.messageId, "EX", o.keepSeconds);
        await multi.exec();
      },
    });
    let failure: unknown;
    let delivered = false;
    // Streaming steps never stop the answer; the final message's failure fails the attempt.
    const safe = guarded(sink, o.logger, conversationId);
    await sink.startTyping();
    try {
      await o.conversations.follow(
        job.messageId,
        {
          ...safe,
          onFinal: async (answer) => {
            await sink.onFinal(answer).then(
              () => {
                delivered = true;
              },
              (error: unknown) => {
                failure = error;
              },
            );
          },
          onError: async (reply) => {
            await sink.onError(reply).then(
              () => {
                delivered = true;
              },
              (error: unknown) => {
                failure = error;
              },
            );
          },
        },
        { signal: AbortSignal.any([AbortSignal.timeout(o.followTimeoutMs), attempt.signal]) },
      );
    } catch (error) {
      if (asCodedError(error).code === ErrorCode.NotFound) {
        throw new DeliveryRefusedError(
          `Message ${job.messageId} is no longer known; its answer cannot be sent.`,
        );
      }
      throw new DeliveryRetryError(`Following the answer failed (${asCodedError(error).code}).`, {
        cause: error,
      });
    } finally {
      sink.stopTyping();
    }
    if (failure !== undefined) throw failure;
    if (!delivered) throw new DeliveryRetryError("No final answer within the follow timeout.");
  }
}
