import type { webApi } from "@slack/bolt";
import { z } from "zod";
import type { DeliveryQueue } from "../../src/delivery/delivery-queue.ts";
import type { DeliveryQueueFactory } from "../../src/delivery/delivery-queues.ts";
import { slackDeliveryError } from "./slack-delivery-errors.ts";

/** Whom a stored message is about (privacy erasure finds it by this). */
const AboutSchema = z.object({ channel: z.string(), userId: z.string() });

/**
 * One message for Slack that is not an answer: a hand-off post in the support channel, a person's reply,
 * a notice in the asker's thread, an ephemeral note to whoever clicked a button. Version 1.
 */
export const SlackPostJobSchema = z.object({
  v: z.literal(1),
  channel: z.string().min(1),
  threadTs: z.string().optional(),
  /** Set: posted with chat.postEphemeral, visible to this user only. */
  ephemeralUser: z.string().optional(),
  /** mrkdwn, already escaped where it carries user or knowledge text. */
  text: z.string(),
  blocks: z.array(z.record(z.string(), z.unknown())).optional(),
  about: AboutSchema.optional(),
});
export type SlackPostJob = z.infer<typeof SlackPostJobSchema>;

/**
 * The Slack posts queue: every chat.postMessage / postEphemeral outside an answer goes through it, so a
 * Slack that is down or rate-limiting delays them (at least Retry-After) instead of dropping them.
 */
export class SlackPosts {
  readonly #queue: DeliveryQueue<SlackPostJob>;

  constructor(queues: DeliveryQueueFactory, client: webApi.WebClient) {
    this.#queue = queues.create({
      name: "posts",
      schema: SlackPostJobSchema,
      concurrency: 8,
      deliver: async (job) => {
        try {
          if (job.ephemeralUser) {
            await client.chat.postEphemeral({
              channel: job.channel,
              user: job.ephemeralUser,
              text: job.text,
              ...(job.threadTs ? { thread_ts: job.threadTs } : {}),
            });
            return;
          }
          await client.chat.postMessage({
            channel: job.channel,
            text: job.text,
            ...(job.threadTs ? { thread_ts: job.threadTs } : {}),
            ...(job.blocks ? { blocks: job.blocks as never } : {}),
            unfurl_links: false,
          });
        } catch (error) {
          throw slackDeliveryError(error);
        }
      },
    });
  }

  get queue(): DeliveryQueue<SlackPostJob> {
    return this.#queue;
  }

  /** Stores a message for Slack; `id` dedupes (the same id is posted once). */
  async post(job: Omit<SlackPostJob, "v">, id?: string): Promise<void> {
    await this.#queue.add({ v: 1, ...job }, id === undefined ? {} : { id });
  }
}
