import { randomUUID } from "node:crypto";
import { hmacSha256 } from "../../src/security/hmac.ts";

/**
 * Slack payloads in the shapes Slack documents (Events API `event_callback` envelopes for app_mention
 * and message.im, and a block_actions interaction), plus a client that signs and POSTs them the way
 * Slack does.
 */

export const TEAM_ID = "T061EG9R6";
export const BOT_USER_ID = "U0LAN0Z89";
export const API_APP_ID = "A0MDYCDME";

let tsCounter = 0;
/** A fresh, increasing Slack message ts ("seconds.micro"). */
export function nextTs(): string {
  tsCounter++;
  const now = Math.floor(Date.now() / 1000);
  return `${now}.${String(100_000 + tsCounter).padStart(6, "0")}`;
}

export function eventId(): string {
  return `Ev${randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
}

interface EnvelopeOptions {
  eventId?: string;
  teamId?: string;
}

function envelope<E extends Record<string, unknown>>(event: E, options: EnvelopeOptions = {}) {
  const teamId = options.teamId ?? TEAM_ID;
  return {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: API_APP_ID,
    event,
    type: "event_callback",
    event_id: options.eventId ?? eventId(),
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: BOT_USER_ID,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomUUID()}`,
  };
}

function richText(text: string) {
  return [
    {
      type: "rich_text",
      block_id: "eXc9",
      elements: [{ type: "rich_text_section", elements: [{ type: "text", text }] }],
    },
  ];
}

export interface MessageOptions extends EnvelopeOptions {
  user?: string;
  channel?: string;
  ts?: string;
  threadTs?: string;
  clientMsgId?: string;
}

/** `app_mention`: someone wrote `<@bot> ...` in a channel. */
export function appMention(text: string, options: MessageOptions = {}) {
  const ts = options.ts ?? nextTs();
  return envelope(
    {
      client_msg_id: options.clientMsgId ?? randomUUID(),
      type: "app_mention",
      text: `<@${BOT_USER_ID}> ${text}`,
      user: options.user ?? "U061F7AUR",
      ts,
      blocks: richText(text),
      team: options.teamId ?? TEAM_ID,
      ...(options.threadTs ? { thread_ts: options.threadTs, parent_user_id: "U061F7AUR" } : {}),
      channel: options.channel ?? "C0LAN2Q65",
      event_ts: ts,
    },
    options,
  );
}

/** `message` with channel_type "im": a direct message to the bot. */
export function directMessage(text: string, options: MessageOptions = {}) {
  const ts = options.ts ?? nextTs();
  return envelope(
    {
      client_msg_id: options.clientMsgId ?? randomUUID(),
      type: "message",
      text,
      user: options.user ?? "U2147483697",
      ts,
      blocks: richText(text),
      team: options.teamId ?? TEAM_ID,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
      channel: options.channel ?? "D024BE91L",
      event_ts: ts,
      channel_type: "im",
    },
    options,
  );
}

/** A message the bot itself posted, as Slack echoes it back into a DM. */
export function botOwnMessage(text: string, options: MessageOptions & { botId?: string } = {}) {
  const ts = options.ts ?? nextTs();
  return envelope(
    {
      type: "message",
      text,
      user: BOT_USER_ID,
      bot_id: options.botId ?? "B0LAN0Z89",
      app_id: API_APP_ID,
      ts,
      team: TEAM_ID,
      bot_profile: {
        id: options.botId ?? "B0LAN0Z89",
        app_id: API_APP_ID,
        name: "supportbot",
        team_id: TEAM_ID,
      },
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
      channel: options.channel ?? "D024BE91L",
      event_ts: ts,
      channel_type: "im",
    },
    options,
  );
}

/** `message` / `message_changed`: a DM edited after it was sent. */
export function editedMessage(text: string, options: MessageOptions = {}) {
  const ts = nextTs();
  const original = options.ts ?? nextTs();
  return envelope(
    {
      type: "message",
      subtype: "message_changed",
      message: {
        type: "message",
        user: "U2147483697",
        text,
        ts: original,
        edited: { user: "U2147483697", ts },
      },
      previous_message: { type: "message", user: "U2147483697", text: "typo", ts: original },
      channel: options.channel ?? "D024BE91L",
      hidden: true,
      ts,
      event_ts: ts,
      channel_type: "im",
    },
    options,
  );
}

/** A `block_actions` interaction: someone clicked one of the answer's buttons. */
export function buttonClick(options: {
  actionId: string;
  value: string;
  channel: string;
  messageTs: string;
  threadTs: string;
  user?: string;
}) {
  return {
    type: "block_actions",
    user: { id: options.user ?? "U061F7AUR", username: "ada", name: "ada", team_id: TEAM_ID },
    api_app_id: API_APP_ID,
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    container: {
      type: "message",
      message_ts: options.messageTs,
      channel_id: options.channel,
      is_ephemeral: false,
      thread_ts: options.threadTs,
    },
    trigger_id: "12466734323.1395872398.2bd5b8a85cd5e8d0f34b9b07cf8c0a83",
    team: { id: TEAM_ID, domain: "example" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: options.channel, name: "support" },
    message: {
      type: "message",
      user: BOT_USER_ID,
      ts: options.messageTs,
      thread_ts: options.threadTs,
      text: "answer",
    },
    state: { values: {} },
    response_url: "https://hooks.slack.com/actions/T061EG9R6/1/abc",
    actions: [
      {
        action_id: options.actionId,
        block_id: "sgw_answer_actions",
        text: { type: "plain_text", text: "button", emoji: true },
        value: options.value,
        type: "button",
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** Slack's request signature: `v0=` + hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body). */
export function slackSignature(secret: string, timestamp: string, body: string | Buffer): string {
  return `v0=${hmacSha256(secret, ["v0:", timestamp, ":", body], "hex")}`;
}

export interface SendOptions {
  secret: string;
  retryNum?: number;
  retryReason?: string;
  /** Seconds since epoch to sign with. @defaultValue now */
  timestamp?: number;
  /** Overrides the computed signature (tests of bad signatures). */
  signature?: string;
  /** Send as an interaction (form-encoded `payload=`). */
  form?: boolean;
  /** Raw body to send instead of serialising (malformed-body tests); signed as given. */
  raw?: string;
  contentType?: string;
}

export interface SlackResponse {
  status: number;
  text: string;
}

/** POSTs a payload to the gateway's /slack/events exactly as Slack would: raw body, signature headers. */
export async function sendToSlackEndpoint(
  url: string,
  payload: unknown,
  options: SendOptions,
): Promise<SlackResponse> {
  const body =
    options.raw ??
    (options.form ? `payload=${encodeURIComponent(JSON.stringify(payload))}` : JSON.stringify(payload));
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    "content-type":
      options.contentType ?? (options.form ? "application/x-www-form-urlencoded" : "application/json"),
    "x-slack-request-timestamp": timestamp,
    "x-slack-signature": options.signature ?? slackSignature(options.secret, timestamp, body),
    "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
  };
  if (options.retryNum !== undefined) {
    headers["x-slack-retry-num"] = String(options.retryNum);
    headers["x-slack-retry-reason"] = options.retryReason ?? "http_timeout";
  }
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, text: await response.text() };
}
