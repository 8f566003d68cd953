import { randomUUID } from "node:crypto";

/**
 * Activities shaped like the ones Teams really posts to a bot (channelId "msteams", the tenant in
 * channelData and conversation, `<at>` mentions with a mention entity, Teams' id prefixes).
 */
export interface TeamsPayloadOptions {
  serviceUrl: string;
  tenantId?: string;
  /** The bot's own account (recipient). */
  botId?: string;
  botName?: string;
  userId?: string;
  /** Activity id; Teams uses a millisecond timestamp string. */
  id?: string;
}

export type TeamsActivity = Record<string, unknown>;

const defaults = {
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  botId: "28:9e1c5a1e-4b7c-4d57-9d6a-3a5c0f6e2b11",
  botName: "Support Bot",
  userId: "29:1GkNbeu8Q3pVnPBu2aXj9vQ-Zc0vYtM",
};

let counter = 0;
function nextId(): string {
  counter += 1;
  return String(Date.now() * 1000 + counter);
}

function base(o: TeamsPayloadOptions) {
  const tenantId = o.tenantId ?? defaults.tenantId;
  const now = new Date().toISOString();
  return {
    tenantId,
    fields: {
      id: o.id ?? nextId(),
      channelId: "msteams",
      serviceUrl: o.serviceUrl,
      timestamp: now,
      localTimestamp: now,
      locale: "en-US",
      from: { id: o.userId ?? defaults.userId, name: "Megan Bowen", aadObjectId: randomUUID() },
      recipient: { id: o.botId ?? defaults.botId, name: o.botName ?? defaults.botName },
    },
  };
}

const clientInfo = {
  type: "clientInfo",
  locale: "en-US",
  country: "US",
  platform: "Web",
  timezone: "Europe/London",
};

/** A message in a 1:1 (personal) chat with the bot. */
export function personalMessage(
  o: TeamsPayloadOptions & { text: string; conversationId?: string },
): TeamsActivity {
  const { tenantId, fields } = base(o);
  return {
    ...fields,
    type: "message",
    text: o.text,
    textFormat: "plain",
    conversation: { conversationType: "personal", tenantId, id: o.conversationId ?? `a:1${randomUUID()}` },
    entities: [clientInfo],
    channelData: { tenant: { id: tenantId } },
  };
}

/** A message in a team channel thread; `mention` puts `<at>Bot</at>` and its mention entity in. */
export function channelMessage(
  o: TeamsPayloadOptions & { text: string; mention: boolean; channelId?: string; threadId?: string },
): TeamsActivity {
  const { tenantId, fields } = base(o);
  const channel = o.channelId ?? `19:${randomUUID().replaceAll("-", "")}@thread.tacv2`;
  const thread = o.threadId ?? fields.id;
  const botName = o.botName ?? defaults.botName;
  const mentionText = `<at>${botName}</at>`;
  return {
    ...fields,
    type: "message",
    text: o.mention ? `${mentionText} ${o.text}` : o.text,
    textFormat: "plain",
    conversation: {
      isGroup: true,
      conversationType: "channel",
      tenantId,
      id: `${channel};messageid=${thread}`,
    },
    entities: o.mention
      ? [
          { type: "mention", text: mentionText, mentioned: { id: fields.recipient.id, name: botName } },
          clientInfo,
        ]
      : [clientInfo],
    channelData: {
      teamsChannelId: channel,
      teamsTeamId: "19:team0000000000000000000000000000@thread.tacv2",
      channel: { id: channel },
      team: { id: "19:team0000000000000000000000000000@thread.tacv2" },
      tenant: { id: tenantId },
    },
  };
}

/** conversationUpdate sent when the bot is installed in a personal chat or added to a team. */
export function botAdded(o: TeamsPayloadOptions & { conversationId?: string }): TeamsActivity {
  const { tenantId, fields } = base(o);
  return {
    ...fields,
    type: "conversationUpdate",
    membersAdded: [{ id: fields.recipient.id }],
    conversation: { conversationType: "personal", tenantId, id: o.conversationId ?? `a:1${randomUUID()}` },
    channelData: { tenant: { id: tenantId }, eventType: "teamMemberAdded" },
  };
}

/** The invoke Teams sends when a user presses the built-in thumbs up/down on a bot message. */
export function feedbackInvoke(
  o: TeamsPayloadOptions & {
    conversationId: string;
    replyToId: string;
    reaction: "like" | "dislike";
    text?: string;
  },
): TeamsActivity {
  const { tenantId, fields } = base(o);
  return {
    ...fields,
    type: "invoke",
    name: "message/submitAction",
    replyToId: o.replyToId,
    value: {
      actionName: "feedback",
      actionValue: { reaction: o.reaction, feedback: JSON.stringify({ feedbackText: o.text ?? "" }) },
    },
    conversation: { conversationType: "personal", tenantId, id: o.conversationId },
    channelData: { tenant: { id: tenantId } },
  };
}

/** The message an Adaptive Card Action.Submit produces: no text, the card's data in `value`. */
export function cardSubmit(
  o: TeamsPayloadOptions & { conversationId: string; value: Record<string, unknown> },
): TeamsActivity {
  const { tenantId, fields } = base(o);
  return {
    ...fields,
    type: "message",
    value: o.value,
    conversation: { conversationType: "personal", tenantId, id: o.conversationId },
    channelData: { tenant: { id: tenantId }, source: { name: "message" } },
  };
}
