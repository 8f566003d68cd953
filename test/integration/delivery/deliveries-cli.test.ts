import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { z } from "zod";
import { runDeliveries } from "../../../src/cli/deliveries-command.ts";
import { testConfig } from "../../../src/config.ts";
import { DeliveryRefusedError } from "../../../src/delivery/delivery-queue.ts";
import { DeliveryQueues } from "../../../src/delivery/delivery-queues.ts";
import { createLogger } from "../../../src/logger.ts";
import { createMetrics } from "../../../src/metrics.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

describe("npm run deliveries: an operator sees the dead letters and sends them again", () => {
  const prefix = `test-${randomUUID()}`;
  const redis = new Redis("redis://127.0.0.1:6379");
  const workerRedis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  const queues = new DeliveryQueues({
    connection: redis,
    workerConnection: workerRedis,
    prefix: new Keyspace(prefix).bullPrefix(),
    metrics: createMetrics({ defaults: false }),
    logger: createLogger({ level: "silent" }),
  });
  const config = testConfig({ REDIS_PREFIX: prefix });
  after(async () => {
    await queues.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    workerRedis.disconnect();
  });

  it("lists each queue's counts and dead letters with their reasons, and retries them", async () => {
    let connectorFixed = false;
    const delivered: string[] = [];
    const posts = queues.create("teams", {
      name: "posts",
      schema: z.object({ v: z.literal(1), text: z.string() }),
      deliver: async (job) => {
        if (!connectorFixed)
          throw new DeliveryRefusedError("The Teams connector refused the activity for good (403)");
        delivered.push(job.text);
      },
    });
    posts.start();
    await posts.add({ v: 1, text: "private words" });
    for (let i = 0; i < 200 && (await posts.sample()).deadLetters === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));

    const listed = capture();
    assert.equal(await runDeliveries(["list"], config, listed.io), 0, listed.err());
    assert.match(listed.out(), /^teams-posts: 0 pending, 0 sending, 1 dead letters$/m);
    assert.match(listed.out(), /1 attempt\(s\) {2}The Teams connector refused the activity for good \(403\)/);
    assert.match(listed.out(), /^handoff-deliveries: 0 pending, 0 sending, 0 dead letters$/m);
    assert.doesNotMatch(listed.out(), /private words/, "never the contents");

    connectorFixed = true;
    const retried = capture();
    assert.equal(await runDeliveries(["retry", "--queue", "teams-posts", "--json"], config, retried.io), 0);
    assert.equal((JSON.parse(retried.out()) as { retried: number }[])[0]?.retried, 1);
    await posts.idle();
    assert.deepEqual(delivered, ["private words"]);
    assert.equal((await posts.sample()).deadLetters, 0);

    const bad = capture();
    assert.equal(await runDeliveries(["list", "--queue", "nope"], config, bad.io), 2);
    assert.match(bad.err(), /Unknown queue "nope"/);
  });
});
