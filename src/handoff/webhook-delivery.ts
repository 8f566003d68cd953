import { createHmac, timingSafeEqual } from "node:crypto";
import { type Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { HandoffDestination, HandoffRecord } from "./handoff-service.ts";

/** The queue every webhook handoff delivery goes through (retries survive gateway restarts). */
export const HANDOFF_DELIVERY_QUEUE = "handoff-deliveries";
/** Longest wait between two attempts: exponential backoff stops doubling here. */
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * `X-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, the timestamp being the
 * `X-Timestamp` header (Unix seconds). Receivers recompute it over the raw body and reject old
 * timestamps, which stops replays (the same scheme as Slack's and Stripe's webhooks).
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Checks a signature in constant time; for receivers (and tests). */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const DeliveryJobSchema = z.object({
  v: z.literal(1),
  type: z.enum(["handoff.requested", "handoff.message", "handoff.released"]),
  handoffId: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

export interface WebhookDeliveriesOptions {
  url: string;
  secret: string;
  /** A plain connection for adding jobs. */
  connection: Redis;
  /** A blocking connection (maxRetriesPerRequest: null) for the worker. */
  workerConnection: Redis;
  bullPrefix: string;
  /** @defaultValue 30 */
  attempts?: number;
  /** First retry delay; doubles each attempt up to 10 minutes. @defaultValue 2000 */
  backoffMs?: number;
  /** Per request. @defaultValue 10000 */
  timeoutMs?: number;
  /** How long a delivery that gave up is kept in the queue's failed set, in seconds. */
  keepFailedSeconds?: number;
  metrics?: Metrics;
  logger: Logger;
}

/**
 * The webhook handoff destination for ticket systems: `deliver` only enqueues (so a handoff is accepted
 * while the receiver is down), and a BullMQ worker POSTs the signed JSON, retrying with exponential
 * backoff until a 2xx comes back or the attempts run out. Body:
 * `{"type":"handoff.requested","handoffId":"...","deliveryId":"...","data":{...HandoffRecord}}`.
 */
export class WebhookDeliveries implements HandoffDestination {
  readonly name = "webhook";
  readonly #o: WebhookDeliveriesOptions;
  readonly #queue: Queue;
  readonly #log: Logger;
  #worker: Worker | undefined;

  constructor(options: WebhookDeliveriesOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "handoff-webhook" });
    this.#queue = new Queue(HANDOFF_DELIVERY_QUEUE, {
      connection: options.connection,
      prefix: options.bullPrefix,
    });
  }

  get queue(): Queue {
    return this.#queue;
  }

  async deliver(record: HandoffRecord): Promise<void> {
    await this.enqueue({ v: 1, type: "handoff.requested", handoffId: record.id ?? "", data: { ...record } });
  }

  async enqueue(job: DeliveryJob): Promise<void> {
    const { attempts = 30, backoffMs = 2000, keepFailedSeconds = 30 * 86_400 } = this.#o;
    await this.#queue.add(job.type, job, {
      attempts,
      backoff: { type: "capped-exponential", delay: backoffMs },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: keepFailedSeconds },
    });
  }

  start(): void {
    const backoffMs = this.#o.backoffMs ?? 2000;
    this.#worker = new Worker(HANDOFF_DELIVERY_QUEUE, (job) => this.#post(job), {
      connection: this.#o.workerConnection,
      prefix: this.#o.bullPrefix,
      concurrency: 4,
      settings: {
        backoffStrategy: (attemptsMade: number) => {
          const base = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** Math.max(0, attemptsMade - 1));
          // Up to 10% jitter so that many gateways retrying after an outage do not arrive together.
          return Math.round(base * (1 + Math.random() * 0.1));
        },
      },
    });
    this.#worker.on("failed", (job, error) => {
      if (!job) return;
      const gaveUp = job.attemptsMade >= (job.opts.attempts ?? 1);
      this.#o.metrics?.webhookDeliveries.inc({ outcome: gaveUp ? "gave_up" : "retry" });
      const fields = { deliveryId: job.id, attempt: job.attemptsMade, err: error.message };
      if (gaveUp) this.#log.error(fields, "handoff webhook delivery gave up");
      else this.#log.warn(fields, "handoff webhook delivery failed; will retry");
    });
    this.#worker.on("error", (error) => this.#log.warn({ err: error.message }, "webhook worker error"));
  }

  async close(): Promise<void> {
    await this.#worker?.close().catch(() => undefined);
    await this.#queue.close().catch(() => undefined);
  }

  async #post(job: Job): Promise<void> {
    const parsed = DeliveryJobSchema.safeParse(job.data);
    if (!parsed.success) {
      this.#log.error({ deliveryId: job.id }, "delivery job does not match v1; dropped");
      return;
    }
    const { type, handoffId, data } = parsed.data;
    const body = JSON.stringify({ type, handoffId, deliveryId: job.id, data });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(this.#o.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "support-gateway-webhook/1",
        "x-timestamp": timestamp,
        "x-signature": signWebhook(this.#o.secret, timestamp, body),
        "x-delivery-id": String(job.id),
        "x-delivery-attempt": String(job.attemptsMade + 1),
      },
      body,
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
    });
    // Drain the body so the connection is reused.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
    this.#o.metrics?.webhookDeliveries.inc({ outcome: "delivered" });
    this.#log.info({ deliveryId: job.id, type, attempt: job.attemptsMade + 1 }, "handoff webhook delivered");
  }
}
