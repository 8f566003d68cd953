import { type Activity, ActivityTypes, type ConversationReference, TurnContext } from "botbuilder";
import type { Config } from "../../src/config.ts";
import type { Conversations, ReplySink } from "../../src/conversation/conversations.ts";
import type { FeedbackService } from "../../src/conversation/feedback.ts";
import type { ConversationRef, InboundMessage } from "../../src/conversation/inbound-message.ts";
import { asCodedError, ErrorCode, GatewayError } from "../../src/errors.ts";
import type { HandoffService } from "../../src/handoff/handoff-service.ts";
import type { Logger } from "../../src/logger.ts";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";
import {
  botWasAdded,
  mentionsBot,
  plainText,
  scopeOf,
  type TeamsScope,
  tenantOf,
} from "./inbound-activity.ts";
import { isHandoffAction } from "./teams-render.ts";

/** Errors the user caused and can fix: answered in the chat, acknowledged with 200 so Teams does not retry. */
const userFacing = new Set<string>([
  ErrorCode.EmptyText,
  ErrorCode.TextTooLong,
  ErrorCode.RateLimited,
  ErrorCode.Busy,
  ErrorCode.HandedOff,
]);

/** An accepted message whose answer is owed (stored in the answers queue before Teams gets its 200). */
export interface AnswerRequest {
  messageId: string;
  reference: Partial<ConversationReference>;
  scope: TeamsScope;
  userId: string;
}

export interface TeamsTurnHandlerOptions {
  /** Teams settings (allowed tenants, the hand-off conversation). */
  teams: Config["teams"];
  conversations: Conversations;
  redis: ChannelRedis;
  keys: ChannelKeys;
  logger: Logger;
  /** Stores an accepted message's answer as owed; a redelivered activity's adds nothing. */
  accept: (request: AnswerRequest) => Promise<void>;
  feedback?: Pick<FeedbackService, "record"> | undefined;
  handoff?: Pick<HandoffService, "request"> | undefined;
  /** @defaultValue a one-line introduction */
  welcomeText?: string;
}

/** A conversation's reference (where proactive messages go: a person's reply after a hand-off). */
export function referenceKey(keys: ChannelKeys, conversationId: string): string {
  return keys.key("ref", conversationId);
}

/** How long a conversation's reference is kept after its last message. */
export const REFERENCE_TTL_SECONDS = 30 * 86_400;

/** Which Teams activity id carried which answer (feedback arrives naming the activity). */
export function sentKey(keys: ChannelKeys, conversationId: string, activityId: string): string {
  return keys.key("sent", conversationId, activityId);
}

/**
 * The bot's logic for one inbound activity, run by the CloudAdapter inside the inbound request. It
 * only accepts work (submit = enqueued) and returns; answers are delivered proactively afterwards,
 * because Teams gives up on a request after about 15 seconds.
 */
export class TeamsTurnHandler {
  constructor(private readonly o: TeamsTurnHandlerOptions) {}

  readonly handle = async (context: TurnContext): Promise<void> => {
    const activity = context.activity;
    switch (activity.type) {
      case ActivityTypes.Message:
        if (isHandoffAction(activity.value)) return this.onHandoff(context, activity.value.messageId);
        return this.onMessage(context);
      case ActivityTypes.ConversationUpdate:
        if (botWasAdded(activity)) {
          await context.sendActivity(
            this.o.welcomeText ??
              "Hi! I answer support questions from our help articles. Ask me anything; in a channel, @mention me.",
          );
        }
        return;
      case ActivityTypes.Invoke:
        if (activity.name === "message/submitAction") return this.onFeedback(context);
        // Unknown invokes still need an answer, or Teams shows the user an error.
        await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body: {} } });
        return;
      default:
        // Reactions, typing, installation updates...: acknowledged and ignored.
        return;
    }
  };

  private ref(activity: Activity): ConversationRef {
    return {
      channel: "teams",
      tenant: tenantOf(activity) ?? "none",
      conversationKey: activity.conversation.id,
    };
  }

  private async onMessage(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const scope = scopeOf(activity);
    // In channels and group chats the bot sees every message of conversations it is in (with RSC) but
    // answers only when it is @mentioned; in a personal chat every message is for it.
    if (scope !== "personal" && !mentionsBot(activity)) return;
    if (!activity.id) throw new GatewayError(ErrorCode.BadRequest, "The message activity has no id.");
    const text = plainText(
      scope === "personal" ? (activity.text ?? "") : TurnContext.removeRecipientMention(activity),
    );
    const ref = this.ref(activity);
    const timestamp = activity.timestamp instanceof Date ? activity.timestamp.getTime() : Number.NaN;
    const reference = TurnContext.getConversationReference(activity);
    const message: InboundMessage = {
      channel: "teams",
      tenant: ref.tenant,
      // A channel thread's conversation id ends in ";messageid=<root>", so each thread is its own conversation.
      conversationKey: ref.conversationKey,
      userId: activity.from.aadObjectId ?? activity.from.id,
      text,
      // Activity ids are unique within a conversation only.
      platformMessageId: `${activity.conversation.id}|${activity.id}`,
      receivedAt: Number.isFinite(timestamp) ? timestamp : Date.now(),
      replyTo: { reference },
    };
    let submission: Awaited<ReturnType<Conversations["submit"]>>;
    try {
      submission = await this.o.conversations.submit(message);
    } catch (error) {
      const coded = asCodedError(error);
      if (!userFacing.has(coded.code)) throw coded;
      await context.sendActivity(coded.message);
      return;
    }
    // Where a person's reply goes if the conversation is handed off (now or later).
    await this.o.redis.set(
      referenceKey(this.o.keys, activity.conversation.id),
      JSON.stringify(reference),
      "EX",
      REFERENCE_TTL_SECONDS,
    );
    // A conversation handed off to a person gets no bot answer: nothing was enqueued, nothing to follow.
    if (submission.handedOff) return;
    // Stored before Teams gets its 200, also for a redelivered activity (the job id dedupes): the first
    // delivery may have been accepted by a gateway that died before storing its answer.
    await this.o.accept({ messageId: submission.messageId, reference, scope, userId: message.userId });
  }

  private async onFeedback(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const value = activity.value as {
      actionName?: unknown;
      actionValue?: { reaction?: unknown; feedback?: unknown };
    };
    const reaction = value?.actionValue?.reaction;
    const respond = (status: number) =>
      context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status, body: {} } });
    if (
      value?.actionName !== "feedback" ||
      (reaction !== "like" && reaction !== "dislike") ||
      !activity.replyToId
    ) {
      await respond(400);
      return;
    }
    const turnId = await this.o.redis.get(sentKey(this.o.keys, activity.conversation.id, activity.replyToId));
    if (turnId === null || !this.o.feedback) {
      await respond(404);
      return;
    }
    let reason: string | undefined;
    try {
      const parsed = JSON.parse(String(value.actionValue?.feedback ?? "{}")) as { feedbackText?: unknown };
      if (typeof parsed.feedbackText === "string" && parsed.feedbackText.trim()) reason = parsed.feedbackText;
    } catch {
      // Teams sends the free-text part as a JSON string; anything else carries no reason.
    }
    try {
      await this.o.feedback.record({
        ref: this.ref(activity),
        turnId,
        vote: reaction === "like" ? "up" : "down",
        userId: activity.from.aadObjectId ?? activity.from.id,
        ...(reason === undefined ? {} : { reason }),
      });
      await respond(200);
    } catch (error) {
      await respond(asCodedError(error).status);
    }
  }

  private async onHandoff(context: TurnContext, turnId: string): Promise<void> {
    const activity = context.activity;
    if (!this.o.handoff) {
      await context.sendActivity("Handing over to a person is not set up here yet.");
      return;
    }
    try {
      const result = await this.o.handoff.request({
        ref: this.ref(activity),
        userId: activity.from.aadObjectId ?? activity.from.id,
        turnId,
      });
      await context.sendActivity(
        result.accepted
          ? "I have asked a person from the support team to take over; they will reply here."
          : "A person from the support team has already been asked and will reply here.",
      );
    } catch (error) {
      await context.sendActivity(asCodedError(error).message);
    }
  }
}

/** A sink wrapper that never throws into the follower (a rendering failure must not stop the stream). */
export function guarded(sink: ReplySink, logger: Logger, conversationId: string): ReplySink {
  const safe =
    <A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      try {
        await fn(...args);
      } catch (err) {
        logger.error({ err, conversationId, step: name }, "teams reply step failed");
      }
    };
  return {
    onStart: safe("start", async () => sink.onStart?.()),
    onChunk: safe("chunk", (text: string) => sink.onChunk(text)),
    onFinal: safe("final", (answer) => sink.onFinal(answer)),
    onError: safe("error", (failure) => sink.onError(failure)),
  };
}
