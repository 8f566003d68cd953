import type { Queue } from "bullmq";
import type { Config } from "../config.ts";
import type { InboundMessage } from "../conversation/inbound-message.ts";
import type { RateLimiter } from "../conversation/rate-limiter.ts";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";

export interface AdmissionOptions {
  config: Config;
  queue: Queue;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  now?: () => number;
}

/**
 * Whether a new message may be accepted: its user and tenant are within their rate limits and the queue
 * is not full. The queue's depth is sampled at most every 250 ms (one sample at a time, so a burst does
 * not hammer Redis) and kept current between samples with this gateway's own enqueues, plus the messages
 * it is still enqueueing. Several gateways can overshoot the bound by what the others enqueue in 250 ms.
 */
export class Admission {
  readonly #o: AdmissionOptions;
  readonly #now: () => number;
  #depth = { value: 0, at: 0 };
  #sampling: Promise<void> | undefined;
  /** Admitted by this gateway but not enqueued yet: not in a queue sample, yet already owed a slot. */
  #admitting = 0;
  /** Enqueued by this gateway so far: those since the last sample are added to it. */
  #enqueued = 0;

  constructor(options: AdmissionOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Refuses a message over a limit (a coded error), or takes a slot for it: call the returned function
   * once it is enqueued (true) or given up (false).
   */
  async admit(msg: InboundMessage): Promise<(enqueued: boolean) => void> {
    const { config, rateLimiter } = this.#o;
    // One after the other: a message its user may not send does not spend its tenant's budget.
    const user = await rateLimiter.hit(
      "user",
      `${msg.channel}:${msg.tenant}:${msg.userId}`,
      config.rateLimit.userPerMinute,
    );
    if (!user.allowed) {
      throw new GatewayError(
        ErrorCode.RateLimited,
        "You are sending messages too quickly. Please wait a moment.",
        {
          retryAfterSeconds: user.retryAfterSeconds,
        },
      );
    }
    const tenant = await rateLimiter.hit(
      "tenant",
      `${msg.channel}:${msg.tenant}`,
      config.rateLimit.tenantPerMinute,
    );
    if (!tenant.allowed) {
      throw new GatewayError(
        ErrorCode.RateLimited,
        "Too many questions are arriving right now. Please try again shortly.",
        { retryAfterSeconds: tenant.retryAfterSeconds },
      );
    }
    await this.depth();
    // Read again after the await: the check and the count below must run with no await in between, so
    // a burst of concurrent requests cannot all pass on the same sample and overshoot the bound.
    if (this.#depth.value + this.#admitting >= config.queue.maxDepth) {
      throw new GatewayError(ErrorCode.Busy, "We are busy right now. Please try again shortly.", {
        retryAfterSeconds: 10,
      });
    }
    this.#admitting += 1;
    let released = false;
    return (enqueued) => {
      if (released) return;
      released = true;
      this.#admitting -= 1;
      if (enqueued) {
        this.#enqueued += 1;
        this.#depth.value += 1;
      }
    };
  }

  /** Jobs waiting or running, as last sampled, plus this gateway's since. */
  async depth(): Promise<number> {
    if (this.#now() - this.#depth.at > 250) {
      this.#sampling ??= this.#sample().finally(() => {
        this.#sampling = undefined;
      });
      await this.#sampling;
    }
    return this.#depth.value + this.#admitting;
  }

  async #sample(): Promise<void> {
    const before = this.#enqueued;
    const counts = await this.#o.queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    // Jobs enqueued while the count was in flight may be missing from it: count them (at worst twice).
    const value = Object.values(counts).reduce((a, b) => a + b, 0) + (this.#enqueued - before);
    this.#depth = { value, at: this.#now() };
    this.#o.metrics.queueDepth.set(this.#depth.value);
  }
}
