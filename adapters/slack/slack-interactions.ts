import type { App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { FeedbackService } from "../../src/conversation/feedback.ts";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";
import { asCodedError } from "../../src/errors.ts";
import type { HandoffService } from "../../src/handoff/handoff-service.ts";
import type { Logger } from "../../src/logger.ts";
import {
  ACTION_HANDOFF,
  ACTION_HANDOFF_RELEASE,
  ACTION_VOTE_UP,
  decodeActionValue,
  escapeMrkdwn,
} from "./slack-blocks.ts";
import type { SlackPosts } from "./slack-posts.ts";

export interface InteractionDeps {
  feedback: FeedbackService | undefined;
  handoff: HandoffService | undefined;
  /** Every reply to a click goes through the posts queue. */
  posts: SlackPosts;
  logger: Logger;
}

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & { client: App["client"] };

/** Where the clicked answer lives, read from the (Slack-signed) interaction payload. */
function locate(args: ButtonArgs) {
  const { body, action } = args;
  const value = decodeActionValue(action.value);
  const channel = body.channel?.id ?? body.container?.channel_id;
  const tenant = body.team?.id ?? body.user.team_id;
  if (!value || !channel || !tenant) return undefined;
  const ref: ConversationRef = { channel: "slack", tenant, conversationKey: value.conversationKey };
  const threadTs = value.conversationKey.slice(value.conversationKey.indexOf(":") + 1);
  return { value, ref, channel, threadTs, userId: body.user.id };
}

/**
 * The buttons under each answer: 👍/👎 store a vote with the turn, "Talk to a person" hands the
 * conversation to the support channel. Each click is acknowledged first (Slack wants it within 3 s);
 * the result is told to the clicker only (ephemeral), except a handoff, which the thread should see.
 */
export function registerInteractions(app: App, deps: InteractionDeps): void {
  const log = deps.logger.child({ component: "slack-interactions" });

  const tell = async (args: ButtonArgs, channel: string, threadTs: string, text: string) => {
    await deps.posts.post({ channel, ephemeralUser: args.body.user.id, threadTs, text: escapeMrkdwn(text) });
  };

  app.action<BlockAction<ButtonAction>>(
    { type: "block_actions", action_id: /^sgw_vote_(up|down)$/ },
    async (args) => {
      await args.ack();
      const where = locate(args as ButtonArgs);
      if (!where || !deps.feedback) {
        log.warn(
          { action: args.action.action_id },
          "vote ignored: unknown answer or feedback not configured",
        );
        return;
      }
      const vote = args.action.action_id === ACTION_VOTE_UP ? "up" : "down";
      try {
        await deps.feedback.record({
          ref: where.ref,
          turnId: where.value.messageId,
          vote,
          userId: where.userId,
        });
        await tell(args as ButtonArgs, where.channel, where.threadTs, "Thanks for the feedback.");
      } catch (error) {
        await tell(args as ButtonArgs, where.channel, where.threadTs, asCodedError(error).message);
      }
    },
  );

  // "Return to bot" on a handoff post: whoever in the support channel clicks it gives the conversation
  // back to the bot; the post's thread records who did.
  app.action<BlockAction<ButtonAction>>(
    { type: "block_actions", action_id: ACTION_HANDOFF_RELEASE },
    async (args) => {
      await args.ack();
      const { body, action } = args as ButtonArgs;
      const channel = body.channel?.id ?? body.container?.channel_id;
      const postTs = body.message?.ts ?? body.container?.message_ts;
      if (!deps.handoff || !action.value || !channel) {
        log.warn("release ignored: no handoff service or no handoff id");
        return;
      }
      const released = await deps.handoff.release(action.value, `slack:${body.user.id}`);
      await deps.posts
        .post({
          channel,
          ...(postTs ? { threadTs: postTs } : {}),
          text: released
            ? `<@${body.user.id}> returned this conversation to the bot.`
            : "This conversation was already back with the bot.",
        })
        .catch((error: unknown) => log.warn({ err: asCodedError(error).code }, "release notice not queued"));
    },
  );

  app.action<BlockAction<ButtonAction>>(
    { type: "block_actions", action_id: ACTION_HANDOFF },
    async (args) => {
      await args.ack();
      const where = locate(args as ButtonArgs);
      if (!where || !deps.handoff) {
        log.warn("handoff ignored: unknown answer or handoff not configured");
        return;
      }
      const client = (args as ButtonArgs).client;
      const link = await client.chat
        .getPermalink({ channel: where.channel, message_ts: where.threadTs })
        .then((r) => r.permalink)
        .catch(() => undefined);
      try {
        const result = await deps.handoff.request({
          ref: where.ref,
          userId: where.userId,
          turnId: where.value.messageId,
          ...(link ? { link } : {}),
        });
        if (result.accepted) {
          const notice =
            result.notice ?? "I've asked a person from support to join; they will reply in this thread.";
          await deps.posts.post({
            channel: where.channel,
            threadTs: where.threadTs,
            text: `<@${where.userId}> ${notice}`,
            about: { channel: "slack", userId: where.userId },
          });
        } else {
          await tell(
            args as ButtonArgs,
            where.channel,
            where.threadTs,
            "A person from support has already been asked.",
          );
        }
      } catch (error) {
        await tell(args as ButtonArgs, where.channel, where.threadTs, asCodedError(error).message);
      }
    },
  );
}
