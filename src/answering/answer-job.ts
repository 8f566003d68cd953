import { createHash } from "node:crypto";
import { z } from "zod";
import { ChannelSchema } from "../conversation/inbound-message.ts";
import { SnippetSchema } from "../knowledge/citation.ts";
import { shardOf } from "../redis/keyspace.ts";

const ConversationSchema = z.object({
  channel: ChannelSchema,
  tenant: z.string(),
  conversationKey: z.string(),
});

/**
 * Version 1 of the data every answer job carries: the gateway retrieved the snippets before enqueueing.
 * Still read, so that jobs queued before an upgrade are answered.
 */
const AnswerJobV1Schema = z.object({
  v: z.literal(1),
  messageId: z.string(),
  conversation: ConversationSchema,
  userId: z.string(),
  question: z.string(),
  snippets: z.array(SnippetSchema),
  /** True when the knowledge base had content: then no snippet means "I don't know", not a free answer. */
  knowledgeReady: z.boolean(),
  /** The conversation's previous message; this job waits until it is finished so answers come in order. */
  previousMessageId: z.string().nullable(),
  acceptedAt: z.number().int(),
});

/** Version 2: the worker retrieves (accepting a message never waits on the knowledge search). */
const AnswerJobV2Schema = z.object({
  v: z.literal(2),
  messageId: z.string(),
  conversation: ConversationSchema,
  userId: z.string(),
  question: z.string(),
  /** The conversation's previous message; this job waits until it is finished so answers come in order. */
  previousMessageId: z.string().nullable(),
  acceptedAt: z.number().int(),
  /** The user's language when the channel says it (BCP 47, e.g. "fr"). */
  lang: z.string().max(35).optional(),
});

/** The data of an answer job; bump `v` on any incompatible change, and keep reading the last version. */
export const AnswerJobSchema = z.discriminatedUnion("v", [AnswerJobV1Schema, AnswerJobV2Schema]);
export type AnswerJob = z.infer<typeof AnswerJobSchema>;

/**
 * The job id and answer id of a platform message. Derived (not random) so that a retried delivery maps
 * to the same job; hex keeps it free of ':' and never integer-like, as BullMQ requires of custom ids. The
 * second character is the conversation's shard, so the message's keys share its conversation's hash tag.
 */
export function messageIdFor(message: {
  channel: string;
  tenant: string;
  conversationKey: string;
  platformMessageId: string;
}): string {
  const digest = createHash("sha256")
    .update(`${message.channel}\u0000${message.tenant}\u0000${message.platformMessageId}`)
    .digest("hex");
  return `m${shardOf(message)}${digest.slice(0, 31)}`;
}

/** A seed per message: a job retried on another worker regenerates the same text. */
export function seedFor(messageId: string): number {
  return Number.parseInt(messageId.slice(2, 10), 16);
}
