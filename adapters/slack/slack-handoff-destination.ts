import type { types } from "@slack/bolt";
import type { HandoffDestination, HandoffRecord } from "../../src/handoff/handoff-service.ts";
import { ACTION_HANDOFF_RELEASE, citationMrkdwn, escapeMrkdwn } from "./slack-blocks.ts";
import type { SlackPostJob, SlackPosts } from "./slack-posts.ts";

/** Section text is capped at 3,000 characters by Slack. */
const SECTION_LIMIT = 2900;

function clip(text: string, limit = SECTION_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/**
 * Who asked, as mrkdwn: a Slack user is mentioned by id (only a real id: anything else would be markup),
 * anyone else is named as escaped text, since a web-chat user id is whatever the host page signed.
 */
function asker(record: HandoffRecord): string {
  if (record.channel === "slack" && /^[UW][A-Z0-9]{2,30}$/.test(record.userId)) return `<@${record.userId}>`;
  return escapeMrkdwn(`${record.channel} user ${record.userId}`);
}

/** A permalink as a link target: no characters that end or split a mrkdwn link, http(s) only. */
function linkTo(link: string | undefined): string | undefined {
  return link && /^https?:\/\//i.test(link) ? link.replace(/[<>|\s]/g, "") : undefined;
}

/**
 * Posts a handoff to a Slack support channel (SLACK_HANDOFF_CHANNEL): who asked, the question, the bot's
 * answer with its sources, the earlier kept turns, and a link back to the conversation when known.
 * `deliver` stores the post in the Slack posts queue (retried until Slack takes it); every text field
 * carrying user or knowledge text is escaped, the notification `text` included.
 */
export class SlackHandoffDestination implements HandoffDestination {
  readonly name = "slack";

  constructor(
    private readonly posts: SlackPosts,
    private readonly channel: string,
  ) {}

  async deliver(record: HandoffRecord): Promise<void> {
    // One post per request: a retried hand-off request (same conversation, same turn) is posted once.
    const id = record.id ? `handoff-${record.id}-${record.requestedAt}` : undefined;
    await this.posts.post(handoffPost(this.channel, record), id);
  }
}

/** The support-channel post for one hand-off. */
export function handoffPost(channel: string, record: HandoffRecord): Omit<SlackPostJob, "v"> {
  const who = asker(record);
  const earlier = record.transcript.filter((t) => t.id !== record.turnId);
  const blocks: types.KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(`:raising_hand: ${who} asked to talk to a person (${record.channel}).`),
      },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Question*\n${escapeMrkdwn(record.question)}`) },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Bot's answer*\n${escapeMrkdwn(record.answer)}`) },
    },
  ];
  if (record.citations.length > 0) {
    blocks.push({
      type: "context",
      elements: record.citations.slice(0, 10).map((c) => ({ type: "mrkdwn", text: citationMrkdwn(c) })),
    });
  }
  if (earlier.length > 0) {
    const lines = earlier.map((t) => `> ${escapeMrkdwn(t.question)}\n${escapeMrkdwn(t.answer)}`).join("\n\n");
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Earlier in the conversation*\n${lines}`) },
    });
  }
  const link = linkTo(record.link);
  if (link) {
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: `<${link}|Open the conversation>` }],
    });
  }
  if (record.id) {
    // The bot stays silent in the user's conversation until someone clicks this (or the admin API
    // releases it, or the user types "back to bot").
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: ACTION_HANDOFF_RELEASE,
          text: { type: "plain_text", text: "Return to bot" },
          value: record.id,
        },
      ],
    });
  }
  return {
    channel,
    // The notification text is mrkdwn too: `<!channel>` or a disguised link typed by a user must not work.
    text: clip(`Handoff requested: ${escapeMrkdwn(record.question)}`),
    blocks: blocks as unknown as Record<string, unknown>[],
    about: { channel: record.channel, userId: record.userId },
  };
}
