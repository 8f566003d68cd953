import type { ConversationReference } from "botbuilder";
import type { HandoffDestination, HandoffRecord } from "../../src/handoff/handoff-service.ts";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";
import type { TeamsPosts } from "./teams-posts.ts";

/** Where the adapter remembers the last serviceUrl Teams used: proactive messages need one. */
export function serviceUrlKey(keys: ChannelKeys): string {
  return keys.key("service-url");
}

function summary(record: HandoffRecord): string {
  const sources = record.citations.map((c) => `[${c.n}] ${c.title} (${c.path})`).join("; ");
  const lines = [
    `**A customer asked for a person** (${record.channel}, tenant ${record.tenant})`,
    `Conversation: ${record.conversationKey}`,
    `User: ${record.userId}`,
    "",
    `**Question:** ${record.question}`,
    "",
    `**Bot's answer:** ${record.answer}`,
  ];
  if (sources) lines.push("", `Sources: ${sources}`);
  if (record.link) lines.push("", `Open: ${record.link}`);
  lines.push("", `${record.transcript.length} turn(s) kept in context.`);
  return lines.join("\n");
}

/**
 * Posts handoff records into one Teams conversation (TEAMS_HANDOFF_CONVERSATION, e.g. a support team's
 * channel id), through the Teams posts queue. The serviceUrl is the one Teams last sent an activity
 * from, since a bot cannot know its region's connector otherwise.
 */
export class TeamsHandoffDestination implements HandoffDestination {
  readonly name = "teams";

  constructor(
    private readonly posts: TeamsPosts,
    private readonly redis: ChannelRedis,
    private readonly keys: ChannelKeys,
    private readonly conversationId: string,
  ) {}

  async deliver(record: HandoffRecord): Promise<void> {
    const serviceUrl = await this.redis.get(serviceUrlKey(this.keys));
    if (serviceUrl === null) {
      throw new Error(
        "No Teams serviceUrl seen yet; the handoff conversation cannot be reached before Teams calls in.",
      );
    }
    const reference: Partial<ConversationReference> = {
      channelId: "msteams",
      serviceUrl,
      conversation: { id: this.conversationId, isGroup: true, conversationType: "channel", name: "" },
    };
    const id = record.id ? `handoff-${record.id}-${record.requestedAt}` : undefined;
    await this.posts.post(
      {
        reference: reference as Record<string, unknown>,
        activity: { type: "message", text: summary(record), textFormat: "markdown" },
        about: { channel: record.channel, userId: record.userId },
      },
      id,
    );
  }
}
