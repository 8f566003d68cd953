import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { RedisContextStore } from "../../../src/conversation/context-store.ts";
import { RateLimiter } from "../../../src/conversation/rate-limiter.ts";
import type { Turn } from "../../../src/conversation/turn.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { contextStoreContract } from "../../contract/context-store-contract.ts";

const redis = new Redis(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `test-${randomUUID()}`;
const keys = new Keyspace(prefix);
const turn = (id: string): Turn => ({
  id,
  question: `q${id}`,
  answer: `a${id}`,
  citations: [],
  at: Date.now(),
});

after(async () => {
  const found = await redis.keys(`${prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  redis.disconnect();
});

contextStoreContract("Redis", async () => ({
  store: new RedisContextStore({ redis, keys, maxTurns: 3, ttlSeconds: 120 }),
  // The ledger's record of a message shares its conversation's hash tag, as in production.
  recordKey: (_ref, turnId) => keys.message(`m0${turnId}`),
  record: async (key, field, turn) => {
    await redis.hset(key, field, JSON.stringify(turn));
  },
}));

describe("RedisContextStore (real Redis)", () => {
  it("keeps the newest three turns, oldest first, with a TTL", async () => {
    const store = new RedisContextStore({ redis, keys, maxTurns: 3, ttlSeconds: 120 });
    const ref = { channel: "webchat" as const, tenant: "t", conversationKey: "c1" };
    for (const id of ["1", "2", "3", "4"]) await store.append(ref, turn(id));
    assert.deepEqual(
      (await store.load(ref)).map((t) => t.id),
      ["2", "3", "4"],
    );
    const ttl = await redis.ttl(keys.context({ channel: "webchat", tenant: "t", conversationKey: "c1" }));
    assert.ok(ttl > 0 && ttl <= 120);
  });

  it("loses no turn when many are appended at once", async () => {
    const store = new RedisContextStore({ redis, keys, maxTurns: 50, ttlSeconds: 120 });
    const ref = { channel: "slack" as const, tenant: "T1", conversationKey: "C1:1700.1" };
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(ref, turn(String(i)))));
    assert.equal((await store.load(ref)).length, 40);
  });

  it("scopes conversations by channel and tenant", async () => {
    const store = new RedisContextStore({ redis, keys, maxTurns: 3, ttlSeconds: 120 });
    await store.append({ channel: "teams", tenant: "A", conversationKey: "x" }, turn("a"));
    assert.equal((await store.load({ channel: "teams", tenant: "B", conversationKey: "x" })).length, 0);
    assert.equal((await store.load({ channel: "slack", tenant: "A", conversationKey: "x" })).length, 0);
  });

  it("stores a vote with its turn", async () => {
    const store = new RedisContextStore({ redis, keys, maxTurns: 3, ttlSeconds: 120 });
    const ref = { channel: "webchat" as const, tenant: "t", conversationKey: "fb" };
    await store.append(ref, turn("x"));
    assert.equal(await store.setFeedback(ref, "x", { vote: "down", reason: "wrong", at: 1 }), true);
    assert.deepEqual((await store.load(ref))[0]?.feedback, { vote: "down", reason: "wrong", at: 1 });
    assert.equal(await store.setFeedback(ref, "missing", { vote: "up", at: 1 }), false);
  });
});

describe("RateLimiter (real Redis)", () => {
  it("allows the limit per minute, then refuses with a Retry-After", async () => {
    const limiter = new RateLimiter(redis, keys);
    const id = randomUUID();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.hit("user", id, 3));
    assert.deepEqual(
      decisions.map((d) => d.allowed),
      [true, true, true, false],
    );
    assert.ok((decisions[3]?.retryAfterSeconds ?? 0) >= 1);
    assert.equal((await limiter.hit("user", id, 0)).allowed, true, "0 means unlimited");
  });

  it("counts each minute apart and says how long until the next", async () => {
    let now = 1_800_000_000_000 + 45_000;
    const limiter = new RateLimiter(redis, keys, () => now);
    const id = randomUUID();
    assert.equal((await limiter.hit("user", id, 1)).allowed, true);
    const refused = await limiter.hit("user", id, 1);
    assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 15 });
    now += 15_000; // the next minute
    assert.equal((await limiter.hit("user", id, 1)).allowed, true);
  });
});
