import type { Queue } from "bullmq";
import { z } from "zod";
import { type DeliveryAttempt, type DeliveryQueue, DeliveryRetryError } from "../delivery/delivery-queue.ts";
import type { DeliveryQueues } from "../delivery/delivery-queues.ts";
import { retryAfterMs } from "../delivery/retry-after.ts";
import type { Logger } from "../logger.ts";
import { hmacSha256, verifyHmac } from "../security/hmac.ts";
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
  return `sha256=${hmacSha256(secret, [timestamp, ".", body], "hex")}`;
}

/** Checks a signature in constant time; for receivers (and tests). */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string): boolean {
  return (
    signature.startsWith("sha256=") && verifyHmac(secret, [timestamp, ".", body], signature.slice(7), "hex")
  );
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
  /** The gateway's delivery queues (connections, prefix, metrics, dead letters). */
  queues: DeliveryQueues;
  /** @defaultValue 30 */
  attempts?: number;
  /** First retry delay; doubles each attempt up to 10 minutes. @defaultValue 2000 */
  backoffMs?: number;
  /** Per request. @defaultValue 10000 */
  timeoutMs?: number;
  logger: Logger;
}

/**
 * The webhook handoff destination for ticket systems: `deliver` only enqueues (so a handoff is accepted
 * while the receiver is down), and the delivery queue POSTs the signed JSON, retrying with exponential
 * backoff (at least the receiver's Retry-After) until a 2xx comes back or the attempts run out, then
 * keeping it as a dead letter. Redirects are never followed: the signed transcript goes to the
 * configured URL or nowhere, and a 3xx is a failed attempt. Body:
 * `{"type":"handoff.requested","handoffId":"...","deliveryId":"...","data":{...HandoffRecord}}`.
 */
export class WebhookDeliveries implements HandoffDestination {
  readonly name = "webhook";
  readonly #o: WebhookDeliveriesOptions;
  readonly #deliveries: DeliveryQueue<DeliveryJob>;
  readonly #log: Logger;

  constructor(options: WebhookDeliveriesOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "handoff-webhook" });
    this.#deliveries = options.queues.createNamed(HANDOFF_DELIVERY_QUEUE, "webhook", {
      name: "webhook",
      schema: DeliveryJobSchema,
      deliver: (job, attempt) => this.#post(job, attempt),
      attempts: options.attempts ?? 30,
      backoffMs: options.backoffMs ?? 2000,
      maxBackoffMs: MAX_BACKOFF_MS,
      concurrency: 4,
    });
  }

  get queue(): Queue {
    return this.#deliveries.queue;
  }

  get deliveries(): DeliveryQueue<DeliveryJob> {
    return this.#deliveries;
  }

  async deliver(record: HandoffRecord): Promise<void> {
    await this.enqueue({ v: 1, type: "handoff.requested", handoffId: record.id ?? "", data: { ...record } });
  }

  async enqueue(job: DeliveryJob): Promise<void> {
    await this.#deliveries.add(job);
  }

  start(): void {
    this.#deliveries.start();
  }

  async close(graceMs = 0): Promise<void> {
    await this.#deliveries.close(graceMs);
  }

  async #post(job: DeliveryJob, attempt: DeliveryAttempt<DeliveryJob>): Promise<void> {
    const { type, handoffId, data } = job;
    const body = JSON.stringify({ type, handoffId, deliveryId: attempt.id, data });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(this.#o.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "support-gateway-webhook/1",
        "x-timestamp": timestamp,
        "x-signature": signWebhook(this.#o.secret, timestamp, body),
        "x-delivery-id": attempt.id,
        "x-delivery-attempt": String(attempt.attempt),
      },
      body,
      // A receiver (or whoever took over its DNS) must not be able to send the signed transcript on.
      redirect: "manual",
      signal: AbortSignal.any([AbortSignal.timeout(this.#o.timeoutMs ?? 10_000), attempt.signal]),
    });
    // Drain the body so the connection is reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 300 && response.status < 400) {
      throw new DeliveryRetryError(
        `webhook answered HTTP ${response.status} (a redirect); redirects are not followed: fix HANDOFF_WEBHOOK_URL`,
      );
    }
    if (!response.ok) {
      throw new DeliveryRetryError(`webhook answered HTTP ${response.status}`, {
        retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
      });
    }
    this.#log.info({ deliveryId: attempt.id, type, attempt: attempt.attempt }, "handoff webhook delivered");
  }
}
