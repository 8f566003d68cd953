import type { types, webApi } from "@slack/bolt";
import type { HandoffDestination, HandoffRecord } from "../../src/handoff/handoff-service.ts";
import { ACTION_HANDOFF_RELEASE, citationMrkdwn, escapeMrkdwn } from "./slack-blocks.ts";

/** Section text is capped at 3,000 characters by Slack. */
const SECTION_LIMIT = 2900;

function clip(text: string, limit = SECTION_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/**
 * Posts a handoff to a Slack support channel (SLACK_HANDOFF_CHANNEL): who asked, the question, the bot's
 * answer with its sources, the earlier kept turns, and a link back to the conversation when known.
 */
export class SlackHandoffDestination implements HandoffDestination {
  readonly name = "slack";

  constructor(
    private readonly client: webApi.WebClient,
    private readonly channel: string,
  ) {}

  async deliver(record: HandoffRecord): Promise<void> {
    const who =
      record.channel === "slack" ? `<@${record.userId}>` : `${record.channel} user ${record.userId}`;
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
      const lines = earlier
        .map((t) => `> ${escapeMrkdwn(t.question)}\n${escapeMrkdwn(t.answer)}`)
        .join("\n\n");
      blocks.push({
        type: "section",
        text: { type: "mrkdwn", text: clip(`*Earlier in the conversation*\n${lines}`) },
      });
    }
    if (record.link) {
      blocks.push({
        type: "context",
        elements: [{ type: "mrkdwn", text: `<${record.link}|Open the conversation>` }],
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
    await this.client.chat.postMessage({
      channel: this.channel,
      text: `Handoff requested: ${record.question}`,
      blocks,
      unfurl_links: false,
    });
  }
}
