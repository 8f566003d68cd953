import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { DeliveryCounts } from "./dead-letters.ts";
import { DeliveryQueue, type DeliverySpec } from "./delivery-queue.ts";

export interface DeliveryQueuesOptions {
  /** A plain connection (adding jobs, counts). */
  connection: Redis;
  /** A connection with `maxRetriesPerRequest: null`, shared by the workers. */
  workerConnection: Redis;
  /** `Keyspace.bullPrefix()`: every queue's keys share its hash tag (Redis Cluster). */
  prefix: string;
  metrics: Metrics;
  logger: Logger;
  /**
   * How long a gateway owns a delivery without renewing it (BullMQ renews it at half this while the
   * gateway lives); after it, another gateway takes the delivery over. @defaultValue 30000
   */
  lockMs?: number;
  /** How often each gateway looks for deliveries whose owner died. @defaultValue 15000 */
  stalledIntervalMs?: number;
  /** How long dead letters are kept. @defaultValue 30 days */
  keepFailedSeconds?: number;
}

/** Creates delivery queues for one channel: what an adapter is given instead of Redis connections. */
export interface DeliveryQueueFactory {
  create<T extends { v: number }>(spec: DeliverySpec<T>): DeliveryQueue<T>;
}

/**
 * Every outbound delivery queue of one gateway (Slack, Teams, the hand-off webhook), created on shared
 * connections under BullMQ's prefix, and sampled together for /metrics.
 */
export class DeliveryQueues {
  readonly #o: DeliveryQueuesOptions;
  readonly #queues: DeliveryQueue<{ v: number }>[] = [];

  constructor(options: DeliveryQueuesOptions) {
    this.#o = options;
  }

  /** A queue named `<channel>-<spec.name>`, labelled with `channel` on /metrics. */
  create<T extends { v: number }>(channel: string, spec: DeliverySpec<T>): DeliveryQueue<T> {
    return this.createNamed(`${channel}-${spec.name}`, channel, spec);
  }

  /** A queue with a name of its own (kept for queues that existed before this module). */
  createNamed<T extends { v: number }>(queueName: string, channel: string, spec: DeliverySpec<T>) {
    const o = this.#o;
    const queue = new DeliveryQueue(spec, {
      queueName,
      channel,
      connection: o.connection,
      workerConnection: o.workerConnection,
      prefix: o.prefix,
      lockMs: o.lockMs ?? 30_000,
      stalledIntervalMs: o.stalledIntervalMs ?? 15_000,
      keepFailedSeconds: o.keepFailedSeconds ?? 30 * 86_400,
      metrics: o.metrics,
      logger: o.logger,
    });
    this.#queues.push(queue as unknown as DeliveryQueue<{ v: number }>);
    return queue;
  }

  /** The factory one channel gets: its queues carry its name. */
  forChannel(channel: string): DeliveryQueueFactory {
    return { create: (spec) => this.create(channel, spec) };
  }

  get queues(): readonly DeliveryQueue<{ v: number }>[] {
    return this.#queues;
  }

  /** Samples every queue's counts into the /metrics gauges. */
  async sample(): Promise<Record<string, DeliveryCounts>> {
    const entries = await Promise.all(
      this.#queues.map(async (q) => [q.queueName, await q.sample()] as const),
    );
    return Object.fromEntries(entries);
  }

  /** Closes every queue (each waits up to `graceMs` for its deliveries in flight). */
  async close(graceMs = 0): Promise<void> {
    await Promise.all(this.#queues.map((q) => q.close(graceMs)));
  }
}
