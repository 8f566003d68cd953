import type { Job, Queue } from "bullmq";
import { ErrorCode } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { AnswerJobSchema } from "./answer-job.ts";
import type { AnswerLedger } from "./answer-ledger.ts";

/** What a visitor reads when no worker took their message in time. */
export const UNAVAILABLE_TEXT =
  "Sorry, nobody can answer right now: our assistant is not available. Please try again in a few minutes.";

export interface QueueWaitJanitorOptions {
  queue: Queue;
  ledger: AnswerLedger;
  /** QUEUE_WAIT_MS: how long a message may wait for its first pickup. */
  waitMs: number;
  logger: Logger;
  /** Counts each message ended this way. */
  onExpired?: () => void;
  now?: () => number;
  /** How many of the oldest waiting jobs one pass looks at. @defaultValue 100 */
  batch?: number;
}

/**
 * The queue-wait budget, enforced from the gateway side (a message waiting for a worker has, by
 * definition, no worker to enforce it): the oldest jobs that no worker has started are ended with an
 * `unavailable` error once older than QUEUE_WAIT_MS, and removed from the queue, so they are never
 * answered later. The ledger decides atomically (only a message still `queued` expires), so a worker
 * that takes the job at the same moment either owns it or finds it finished and drops it. Every
 * gateway runs a pass about once a second; passes that overlap are harmless.
 */
export class QueueWaitJanitor {
  readonly #o: QueueWaitJanitorOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(options: QueueWaitJanitorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ component: "queue-wait" });
  }

  start(intervalMs = Math.min(1000, Math.max(100, Math.floor(this.#o.waitMs / 4)))): void {
    this.#timer = setInterval(() => {
      void this.sweep().catch((error: unknown) =>
        this.#log.warn({ err: (error as Error).message }, "queue-wait pass failed"),
      );
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One pass; returns how many messages it ended. */
  sweep(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const { queue, waitMs } = this.#o;
    const batch = this.#o.batch ?? 100;
    // Oldest first: the wait list in FIFO order, and prioritized jobs (lower priorities wait longest).
    const jobs = [
      ...(await queue.getJobs(["wait"], 0, batch - 1, true)),
      ...(await queue.getJobs(["prioritized"], -batch, -1, true)),
    ];
    let expired = 0;
    for (const job of jobs) {
      if (!job || job.attemptsStarted > 0) continue;
      if (this.#now() - acceptedAtOf(job) < waitMs) continue;
      if (await this.expire(job)) expired += 1;
    }
    return expired;
  }

  /** Ends one job's message with `unavailable` if no worker started it; removes the job either way. */
  async expire(job: Job): Promise<boolean> {
    const parsed = AnswerJobSchema.safeParse(job.data);
    const messageId = parsed.success ? parsed.data.messageId : String(job.id);
    const ended = await this.#o.ledger.expireQueued(messageId, {
      t: "error",
      d: { code: ErrorCode.Unavailable, message: UNAVAILABLE_TEXT, at: this.#now() },
    });
    // A job a worker holds cannot be removed (it is locked); that worker finds the message finished.
    await job.remove().catch(() => undefined);
    if (ended) {
      this.#o.onExpired?.();
      this.#log.warn(
        { messageId, waitedMs: this.#now() - acceptedAtOf(job) },
        "no worker took the message in time",
      );
    }
    return ended;
  }
}

export function acceptedAtOf(job: Job): number {
  const at = (job.data as { acceptedAt?: unknown }).acceptedAt;
  return typeof at === "number" ? at : job.timestamp;
}
