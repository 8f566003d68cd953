import { type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import {
  countDeliveries,
  type DeadLetter,
  type DeliveryCounts,
  listDeadLetters,
  retryDeadLetters,
} from "./dead-letters.ts";

/**
 * A failed send the platform asked us to repeat later (429 with Retry-After, 412, a 5xx). Throw it from a
 * `deliver` function: the next attempt waits at least `retryAfterMs`.
 */
export class DeliveryRetryError extends GatewayError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super(ErrorCode.DeliveryFailed, message, { cause: options.cause });
    this.name = "DeliveryRetryError";
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A send that will fail the same way however often it is repeated (403, 404, a payload the platform
 * refuses): the job goes straight to the dead letters, where an operator sees it.
 */
export class DeliveryRefusedError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = "DeliveryRefusedError";
  }
}

/** What a `deliver` function learns about the attempt it runs. */
export interface DeliveryAttempt<T> {
  /** The job id (stable over attempts: receivers can dedupe on it). */
  readonly id: string;
  /** 1 for the first attempt; a job taken over from a gateway that died counts the attempt it lost. */
  readonly attempt: number;
  /** Aborted when this gateway stops past its grace period: stop writing, another gateway takes over. */
  readonly signal: AbortSignal;
  /** Stores progress with the job (say, the id of a message already posted) for a later attempt. */
  save(payload: T): Promise<void>;
}

/** One kind of outbound message: its payload schema (with a version field) and how it is sent. */
export interface DeliverySpec<T extends { v: number }> {
  /** Short name, unique within its channel: letters, digits and "-" (e.g. "answers"). */
  name: string;
  schema: z.ZodType<T>;
  deliver(payload: T, attempt: DeliveryAttempt<T>): Promise<void>;
  /** Attempts before the job is a dead letter. @defaultValue 12 */
  attempts?: number;
  /** First retry delay; doubles per attempt (with up to 10% jitter). @defaultValue 1000 */
  backoffMs?: number;
  /** Longest delay between two attempts, Retry-After aside. @defaultValue 600000 */
  maxBackoffMs?: number;
  /** Jobs one gateway runs at once (answers mostly wait on the model, so many). @defaultValue 16 */
  concurrency?: number;
  /** Delivered jobs are kept this long, so that a re-added job id is still recognised. @defaultValue 3600 */
  keepDeliveredSeconds?: number;
}

export interface DeliveryQueueOptions {
  /** Full queue name (`<channel>-<name>`). */
  queueName: string;
  /** The `channel` label on /metrics. */
  channel: string;
  /** A plain connection for adding jobs and reading counts. */
  connection: Redis;
  /** A connection with `maxRetriesPerRequest: null` for the worker (it duplicates it for blocking reads). */
  workerConnection: Redis;
  /** BullMQ's key prefix: `Keyspace.bullPrefix()`, one hash tag for every queue. */
  prefix: string;
  /** How long a delivery stays owned by a gateway without renewal; a dead gateway's job moves after it. */
  lockMs: number;
  /** How often gateways look for jobs whose owner died. */
  stalledIntervalMs: number;
  /** How long dead letters are kept, in seconds. */
  keepFailedSeconds: number;
  metrics: Metrics;
  logger: Logger;
}

/**
 * One delivery queue on BullMQ: `add` stores the message durably (the job id dedupes), a worker on every
 * gateway sends it, a failure is retried with exponential back-off that honours the platform's
 * Retry-After, a gateway that dies mid-send loses its lock and another gateway takes the job over, and a
 * job out of attempts stays in the failed set (the dead letters: counted on /metrics, listed by
 * `deadLetters()`, kept `keepFailedSeconds`).
 */
export class DeliveryQueue<T extends { v: number }> {
  readonly channel: string;
  readonly queueName: string;
  readonly #spec: DeliverySpec<T>;
  readonly #o: DeliveryQueueOptions;
  readonly #queue: Queue;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  #worker: Worker | undefined;
  #counts: DeliveryCounts = { pending: 0, active: 0, deadLetters: 0 };

  constructor(spec: DeliverySpec<T>, options: DeliveryQueueOptions) {
    if (!/^[A-Za-z0-9-]+$/.test(options.queueName)) {
      throw new Error(`A delivery queue name takes letters, digits and "-" only: ${options.queueName}`);
    }
    this.#spec = spec;
    this.#o = options;
    this.channel = options.channel;
    this.queueName = options.queueName;
    this.#log = options.logger.child({ component: "delivery", queue: options.queueName });
    this.#queue = new Queue(options.queueName, { connection: options.connection, prefix: options.prefix });
  }

  /** The BullMQ queue (privacy erasure scans it). */
  get queue(): Queue {
    return this.#queue;
  }

  /** The counts of the last sample (see `sample`). */
  get counts(): DeliveryCounts {
    return this.#counts;
  }

  /**
   * Stores a message for delivery. With `id`, a message already stored under that id (waiting, running,
   * or delivered within `keepDeliveredSeconds`) is not stored again.
   * @throws Error when the payload does not match the queue's schema (a bug, not bad input).
   */
  async add(payload: T, { id, delayMs }: { id?: string; delayMs?: number } = {}): Promise<void> {
    const checked = this.#spec.schema.parse(payload);
    if (id !== undefined && (/^\d+$/.test(id) || id.includes(":"))) {
      throw new Error(`A delivery id must not be a number or contain ":": ${id}`);
    }
    await this.#queue.add(this.#spec.name, checked, {
      ...(id === undefined ? {} : { jobId: id }),
      ...(delayMs ? { delay: delayMs } : {}),
      attempts: this.#spec.attempts ?? 12,
      backoff: { type: "delivery" },
      removeOnComplete: { age: this.#spec.keepDeliveredSeconds ?? 3600 },
      removeOnFail: { age: this.#o.keepFailedSeconds },
    });
  }

  /** Starts this gateway's worker. */
  start(): void {
    if (this.#worker) return;
    const { backoffMs = 1000, maxBackoffMs = 600_000 } = this.#spec;
    this.#worker = new Worker(this.queueName, (job) => this.#run(job), {
      connection: this.#o.workerConnection,
      prefix: this.#o.prefix,
      concurrency: this.#spec.concurrency ?? 16,
      lockDuration: this.#o.lockMs,
      stalledInterval: this.#o.stalledIntervalMs,
      // A delivery whose gateway died is taken over, not failed: a rolling restart may stall it twice.
      maxStalledCount: 5,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          retryDelay(attemptsMade, backoffMs, maxBackoffMs, error),
      },
    });
    this.#worker.on("failed", (job, error) => {
      if (!job) return;
      const dead = error.name === "UnrecoverableError" || error instanceof UnrecoverableError;
      const gaveUp = dead || job.attemptsMade >= (job.opts.attempts ?? 1);
      this.#count(gaveUp ? "dead" : "retry");
      const fields = { deliveryId: job.id, attempt: job.attemptsMade, err: error.message };
      if (gaveUp) this.#log.error(fields, "delivery given up; kept as a dead letter");
      else this.#log.warn(fields, "delivery failed; will retry");
    });
    this.#worker.on("completed", (job) => {
      this.#count("delivered");
      this.#o.metrics.deliverySeconds.observe(
        { channel: this.channel, queue: this.queueName },
        (Date.now() - job.timestamp) / 1000,
      );
    });
    this.#worker.on("error", (error) => this.#log.warn({ err: error.message }, "delivery worker error"));
  }

  /**
   * Stops taking jobs and waits up to `graceMs` for those in flight; past it they are told to stop
   * (their lock lapses and another gateway takes them over from where they saved).
   */
  async close(graceMs = 0): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      // No new jobs; those in flight get the grace period (BullMQ's own graceful close has no time limit).
      await worker.pause(true).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.allSettled([...this.#inflight]).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) this.#abort.abort();
      // Forced past the grace period: locks are no longer renewed, so another gateway takes those over.
      await worker.close(!finished).catch(() => undefined);
    }
    await this.#queue.close().catch(() => undefined);
  }

  /** Reads the job counts (for /metrics and /readyz). */
  async sample(): Promise<DeliveryCounts> {
    this.#counts = await countDeliveries(this.#queue);
    const labels = { channel: this.channel, queue: this.queueName };
    this.#o.metrics.deliveryDeadLetters.set(labels, this.#counts.deadLetters);
    this.#o.metrics.deliveryPending.set(labels, this.#counts.pending + this.#counts.active);
    return this.#counts;
  }

  /**
   * Resolves once no job is waiting or being sent (retries waiting for their time do not count): what
   * tests and benchmarks wait on instead of sleeping.
   */
  async idle(pollMs = 20): Promise<void> {
    for (;;) {
      const c = await this.#queue.getJobCounts("waiting", "prioritized", "active");
      if ((c.waiting ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** The newest dead letters (what an operator inspects before retrying or dropping them). */
  deadLetters(limit = 50): Promise<DeadLetter[]> {
    return listDeadLetters(this.#queue, limit);
  }

  /** Sends every dead letter again (after the platform or the configuration was fixed). */
  retryDeadLetters(): Promise<number> {
    return retryDeadLetters(this.#queue);
  }

  async #run(job: Job): Promise<void> {
    const parsed = this.#spec.schema.safeParse(job.data);
    if (!parsed.success) {
      // Written by another version of the service, or corrupted: kept for an operator, never retried.
      throw new DeliveryRefusedError(`payload does not match ${this.queueName} v${String(job.data?.v)}`);
    }
    const attempt: DeliveryAttempt<T> = {
      id: String(job.id),
      attempt: job.attemptsStarted,
      signal: this.#abort.signal,
      save: async (payload) => {
        await job.updateData(this.#spec.schema.parse(payload));
      },
    };
    const work = this.#spec.deliver(parsed.data, attempt);
    this.#inflight.add(work);
    try {
      await work;
    } finally {
      this.#inflight.delete(work);
    }
  }

  #count(outcome: string): void {
    this.#o.metrics.deliveries.inc({ channel: this.channel, queue: this.queueName, outcome });
  }
}

/**
 * Exponential back-off from `baseMs`, doubling per failed attempt up to `maxMs`, plus up to 10% jitter so
 * that gateways retrying after an outage do not arrive together; never sooner than a Retry-After.
 */
export function retryDelay(attemptsMade: number, baseMs: number, maxMs: number, error?: Error): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const backoff = Math.round(step * (1 + Math.random() * 0.1));
  const retryAfter = error instanceof DeliveryRetryError ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(backoff, retryAfter);
}
