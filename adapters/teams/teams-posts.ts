import type { Activity, ConversationReference } from "botbuilder";
import { z } from "zod";
import type { DeliveryQueue } from "../../src/delivery/delivery-queue.ts";
import type { DeliveryQueueFactory } from "../../src/delivery/delivery-queues.ts";
import { ReferenceSchema } from "./teams-answers.ts";
import { type TeamsConnector, teamsDeliveryError } from "./teams-connector.ts";

/**
 * One proactive Teams message that is not an answer: a hand-off post in the support conversation, a
 * person's reply in a handed-off conversation. Version 1.
 */
export const TeamsPostJobSchema = z.object({
  v: z.literal(1),
  reference: ReferenceSchema,
  activity: z.object({
    type: z.literal("message"),
    text: z.string(),
    textFormat: z.enum(["plain", "markdown"]),
  }),
  /** Whom the message is about (privacy erasure finds the job by this). */
  about: z.object({ channel: z.string(), userId: z.string() }).optional(),
});
export type TeamsPostJob = z.infer<typeof TeamsPostJobSchema>;

/** The Teams posts queue: proactive messages with retries, Retry-After, take-over and dead letters. */
export class TeamsPosts {
  readonly #queue: DeliveryQueue<TeamsPostJob>;

  constructor(queues: DeliveryQueueFactory, connector: TeamsConnector) {
    this.#queue = queues.create({
      name: "posts",
      schema: TeamsPostJobSchema,
      concurrency: 8,
      deliver: async (job) => {
        try {
          await connector.send(
            job.reference as Partial<ConversationReference>,
            job.activity as Partial<Activity>,
          );
        } catch (error) {
          throw teamsDeliveryError(error);
        }
      },
    });
  }

  get queue(): DeliveryQueue<TeamsPostJob> {
    return this.#queue;
  }

  async post(job: Omit<TeamsPostJob, "v">, id?: string): Promise<void> {
    await this.#queue.add({ v: 1, ...job }, id === undefined ? {} : { id });
  }
}
