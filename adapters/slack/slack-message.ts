import type { InboundMessage } from "../../src/conversation/inbound-message.ts";

/** The fields of a Slack `app_mention` / `message` event this channel reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  client_msg_id?: string;
  team?: string;
  user_team?: string;
}

/** Where an answer goes and whom it streams to (opaque to the conversation layer, kept in replyTo). */
export interface SlackReplyTarget {
  channel: string;
  /** The thread root: the answer always goes in the thread. */
  threadTs: string;
  /** The user's message itself (the "working" reaction goes on it). */
  messageTs: string;
  userId: string;
  /** The user's own workspace (differs from the tenant in Slack Connect channels); streams go to it. */
  teamId: string;
  /** The workspace the bot is installed in: the conversation's tenant. */
  tenant: string;
  isDirect: boolean;
}

export type Selection =
  | { handle: true; reply: SlackReplyTarget; text: string }
  | { handle: false; reason: string };

/**
 * `teamId` is the envelope's team_id (the installing workspace, the tenant).
 *
 * Which messages the bot answers (documented choices):
 * - `app_mention` anywhere, and every plain `message` in a direct message (channel_type "im");
 * - never its own messages or another bot's (`bot_id` or subtype bot_message): bots answering bots loop;
 * - never edits (message_changed), deletions (message_deleted) or any other subtype (joins, topic
 *   changes, file shares without a question): only what a person newly wrote is a question;
 * - channel messages without a mention are ignored, even in a thread the bot answered in, so that the
 *   bot never barges into a conversation between people.
 */
export function selectMessage(
  event: SlackMessageEvent,
  teamId: string | undefined,
  botUserId?: string,
): Selection {
  if (event.bot_id !== undefined || event.subtype === "bot_message")
    return { handle: false, reason: "bot message" };
  if (botUserId !== undefined && event.user === botUserId) return { handle: false, reason: "own message" };
  if (event.subtype !== undefined && event.subtype !== "thread_broadcast") {
    return { handle: false, reason: `subtype ${event.subtype}` };
  }
  if (event.type === "message" && event.channel_type !== "im") return { handle: false, reason: "not a DM" };
  if (event.type !== "message" && event.type !== "app_mention")
    return { handle: false, reason: `event ${event.type}` };
  const { channel, user, ts } = event;
  const tenant = teamId ?? event.team;
  const team = event.user_team ?? event.team ?? teamId;
  if (!channel || !user || !ts || !team || !tenant) return { handle: false, reason: "incomplete event" };
  return {
    handle: true,
    text: stripMention(event.text ?? "", botUserId),
    reply: {
      channel,
      threadTs: event.thread_ts ?? ts,
      messageTs: ts,
      userId: user,
      teamId: team,
      tenant,
      isDirect: event.channel_type === "im" || channel.startsWith("D"),
    },
  };
}

/**
 * Removes the bot's mention (`<@U123>` or `<@U123|name>`) wherever it is, then tidies spaces. Other
 * people's mentions stay: they are part of the question.
 */
export function stripMention(text: string, botUserId: string | undefined): string {
  const pattern = botUserId
    ? new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]*)?>`, "g")
    : // Without the bot's id, only a leading mention can safely be taken as addressing the bot.
      /^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/;
  return text.replace(pattern, " ").replace(/\s+/g, " ").trim();
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The InboundMessage for a selected Slack message. A conversation is a thread (channel + thread root);
 * the platform message id is channel + ts, identical for the app_mention and message deliveries of one
 * message, so the conversation layer answers it once whichever arrives.
 */
export function toInboundMessage(reply: SlackReplyTarget, text: string): InboundMessage {
  return {
    channel: "slack",
    tenant: reply.tenant,
    conversationKey: `${reply.channel}:${reply.threadTs}`,
    userId: reply.userId,
    text,
    platformMessageId: `${reply.channel}:${reply.messageTs}`,
    receivedAt: Math.round(Number(reply.messageTs) * 1000) || Date.now(),
    replyTo: { ...reply },
  };
}
