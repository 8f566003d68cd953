import { z } from "zod";

export const ChannelSchema = z.enum(["webchat", "slack", "teams"]);
export type Channel = z.infer<typeof ChannelSchema>;

/**
 * One user message, normalised from any channel. Adapters build it; the conversation layer never sees
 * a platform payload.
 */
export const InboundMessageSchema = z.object({
  channel: ChannelSchema,
  /** Workspace (Slack team), Teams tenant, or web-chat site; scopes every Redis key. */
  tenant: z.string().min(1).max(200),
  /** Identifies the conversation inside the tenant (Slack channel + thread root, Teams conversation id...). */
  conversationKey: z.string().min(1).max(500),
  userId: z.string().min(1).max(200),
  text: z.string(),
  /** The platform's own id for this message; the inference job id derives from it, so retries dedupe. */
  platformMessageId: z.string().min(1).max(500),
  /** When the platform says the message was sent (ms since epoch). */
  receivedAt: z.number().int().nonnegative(),
  /** Channel-specific address for the reply (thread ts, conversation reference...), opaque to the core. */
  replyTo: z.record(z.string(), z.unknown()),
  /** The user's language where the channel says it (BCP 47, e.g. `fr` or `pt-BR`: the web chat page's). */
  lang: z.string().min(1).max(35).optional(),
});
export type InboundMessage = z.infer<typeof InboundMessageSchema>;

/** The scope of one conversation's Redis keys. */
export interface ConversationRef {
  channel: Channel;
  tenant: string;
  conversationKey: string;
}

export function conversationRefOf(message: InboundMessage): ConversationRef {
  return { channel: message.channel, tenant: message.tenant, conversationKey: message.conversationKey };
}
