import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { z } from "zod";
import {
  type DeliveryAttempt,
  type DeliveryQueue,
  DeliveryRefusedError,
  DeliveryRetryError,
} from "../../../src/delivery/delivery-queue.ts";
import { DeliveryQueues } from "../../../src/delivery/delivery-queues.ts";
import { createLogger } from "../../../src/logger.ts";
import { createMetrics } from "../../../src/metrics.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";

const Job = z.object({ v: z.literal(1), text: z.string(), progress: z.string().optional() });
type Job = z.infer<typeof Job>;
type Deliver = (job: Job, attempt: DeliveryAttempt<Job>) => Promise<void>;

async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("DeliveryQueue on real Redis and BullMQ", () => {
  const prefix = `test-${randomUUID()}`;
  const redis = new Redis("redis://127.0.0.1:6379");
  const workerRedis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  const metrics = createMetrics({ defaults: false });
  const factory = (lockMs = 1000) =>
    new DeliveryQueues({
      connection: redis,
      workerConnection: workerRedis,
      prefix: new Keyspace(prefix).bullPrefix(),
      metrics,
      logger: createLogger({ level: "silent" }),
      lockMs,
      stalledIntervalMs: 300,
    });
  const gateways: DeliveryQueues[] = [];
  let n = 0;
  /** A queue of its own per test; `deliver` is swappable so that two gateways can behave differently. */
  function queue(
    deliver: Deliver,
    extra: { attempts?: number; gateway?: DeliveryQueues; name?: string } = {},
  ) {
    const gateway = extra.gateway ?? factory();
    gateways.push(gateway);
    const q = gateway.create("test", {
      name: extra.name ?? `q${++n}`,
      schema: Job,
      deliver,
      attempts: extra.attempts ?? 5,
      backoffMs: 50,
    });
    q.start();
    return q;
  }

  before(() => redis.ping());
  after(async () => {
    for (const g of gateways) await g.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    workerRedis.disconnect();
  });

  it("refuses a payload that does not match its schema, and ids BullMQ cannot take", async () => {
    const q = queue(async () => {});
    await assert.rejects(q.add({ v: 2, text: "x" } as unknown as Job));
    await assert.rejects(q.add({ v: 1, text: "x" }, { id: "12" }));
    await assert.rejects(q.add({ v: 1, text: "x" }, { id: "a:b" }));
  });

  it("delivers a job id once, however often it is added", async () => {
    const seen: string[] = [];
    const q = queue(async (job) => {
      seen.push(job.text);
    });
    await Promise.all([1, 2, 3].map(() => q.add({ v: 1, text: "once" }, { id: "same" })));
    await q.idle();
    await q.add({ v: 1, text: "once" }, { id: "same" });
    await q.idle();
    assert.deepEqual(seen, ["once"]);
  });

  it("retries a failed send no sooner than its Retry-After, then delivers", async () => {
    const at: number[] = [];
    const q = queue(async (_job, attempt) => {
      at.push(Date.now());
      if (attempt.attempt < 3) throw new DeliveryRetryError("429", { retryAfterMs: 400 });
    });
    await q.add({ v: 1, text: "slow down" });
    await until(async () => at.length === 3 && (await q.sample()).pending === 0);
    assert.ok((at[1] ?? 0) - (at[0] ?? 0) >= 390, `second try after ${(at[1] ?? 0) - (at[0] ?? 0)} ms`);
    assert.ok((at[2] ?? 0) - (at[1] ?? 0) >= 390);
    assert.equal((await q.sample()).deadLetters, 0);
  });

  it("keeps a job out of attempts as a dead letter, and sends it again on request", async () => {
    let fail = true;
    let delivered = 0;
    const q = queue(
      async () => {
        if (fail) throw new Error("platform down");
        delivered += 1;
      },
      { attempts: 3 },
    );
    await q.add({ v: 1, text: "doomed" });
    await until(async () => (await q.sample()).deadLetters === 1);
    const [dead] = await q.deadLetters();
    assert.equal(dead?.attempts, 3);
    assert.match(dead?.reason ?? "", /platform down/);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`sgw_delivery_dead_letters\\{channel="test",queue="${q.queueName}"\\} 1`));
    fail = false;
    assert.equal(await q.retryDeadLetters(), 1);
    await until(async () => delivered === 1 && (await q.sample()).deadLetters === 0);
  });

  it("sends a refused job straight to the dead letters, and one of another version too", async () => {
    let calls = 0;
    const q = queue(async () => {
      calls += 1;
      throw new DeliveryRefusedError("channel_not_found");
    });
    await q.add({ v: 1, text: "nowhere" });
    await q.queue.add("old", { v: 0, body: "written by an older version" });
    await until(async () => (await q.sample()).deadLetters === 2);
    const reasons = (await q.deadLetters()).map((d) => d.reason).sort();
    assert.match(reasons[0] ?? "", /channel_not_found/);
    assert.match(reasons[1] ?? "", /does not match/);
    assert.equal(calls, 1, "not retried");
  });

  it("lets another gateway take over a delivery whose gateway stopped mid-send, from its saved progress", async () => {
    const name = `takeover${++n}`;
    let firstStarted: (() => void) | undefined;
    const started = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    let first: DeliveryQueue<Job> | undefined;
    first = queue(
      async (job, attempt) => {
        await attempt.save({ ...job, progress: "posted ts 1.1" });
        firstStarted?.();
        // Frozen, as a process that died: it neither finishes nor fails, and its lock lapses.
        await new Promise(() => {});
      },
      { name },
    );
    await first.add({ v: 1, text: "take me over" });
    await started;
    await first.close(0);
    first = undefined;
    const seen: { progress?: string; attempt: number }[] = [];
    const second = queue(
      async (job, attempt) => {
        seen.push({ ...(job.progress ? { progress: job.progress } : {}), attempt: attempt.attempt });
      },
      { name },
    );
    await until(async () => seen.length === 1 && (await second.sample()).active === 0, 15_000);
    assert.equal(seen[0]?.progress, "posted ts 1.1", "the second gateway continues from the saved progress");
    assert.equal(seen[0]?.attempt, 2);
    assert.equal((await second.sample()).deadLetters, 0);
  });
});
