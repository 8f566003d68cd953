import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { ConversationRef } from "../../../src/conversation/inbound-message.ts";
import type { Turn } from "../../../src/conversation/turn.ts";
import { ErrorCode, GatewayError } from "../../../src/errors.ts";
import {
  type HandoffDestination,
  type HandoffRecord,
  HandoffService,
} from "../../../src/handoff/handoff-service.ts";
import { createLogger } from "../../../src/logger.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";

const ref: ConversationRef = { channel: "teams", tenant: "t1", conversationKey: "a:conv" };
const turns: Turn[] = [
  { id: "m-1", question: "Do you ship to Canada?", answer: "Yes [1].", citations: [], at: 1 },
  {
    id: "m-2",
    question: "How long?",
    answer: "5 days [1].",
    citations: [{ n: 1, title: "Shipping", path: "shipping.md" }],
    at: 2,
  },
];

class Recorder implements HandoffDestination {
  readonly records: HandoffRecord[] = [];
  constructor(
    readonly name: string,
    private readonly fail = false,
  ) {}
  async deliver(record: HandoffRecord): Promise<void> {
    if (this.fail) throw new Error("unreachable");
    this.records.push(record);
  }
}

describe("HandoffService", () => {
  let redis: Redis;
  const prefix = `test-${randomUUID()}`;
  before(() => {
    redis = new Redis("redis://127.0.0.1:6379");
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const service = (kept: Turn[] = turns) =>
    new HandoffService({
      turns: async () => kept,
      logger: createLogger({ level: "silent" }),
      redis,
      keys: new Keyspace(`${prefix}:${randomUUID()}`),
      now: () => 99,
    });

  it("delivers the question, the last answer, its sources and the kept transcript to every destination", async () => {
    const s = service();
    const slack = new Recorder("slack");
    const webhook = new Recorder("webhook");
    s.register(slack);
    s.register(webhook);
    const result = await s.request({ ref, userId: "u-1", link: "https://x/thread" });
    assert.equal(result.accepted, true);
    assert.deepEqual(result.deliveredTo.sort(), ["slack", "webhook"]);
    const record = slack.records[0];
    assert.equal(record?.question, "How long?");
    assert.equal(record?.answer, "5 days [1].");
    assert.deepEqual(record?.citations, turns[1]?.citations);
    assert.deepEqual(record?.transcript, turns);
    assert.equal(record?.channel, "teams");
    assert.equal(record?.link, "https://x/thread");
    assert.deepEqual(webhook.records[0], record);
  });

  it("hands over the answer the button was under, not just the latest", async () => {
    const s = service();
    const d = new Recorder("slack");
    s.register(d);
    await s.request({ ref, userId: "u-1", turnId: "m-1" });
    assert.equal(d.records[0]?.question, "Do you ship to Canada?");
  });

  it("delivers a repeated request for the same answer once", async () => {
    const s = service();
    const d = new Recorder("slack");
    s.register(d);
    await s.request({ ref, userId: "u-1", turnId: "m-2" });
    const again = await s.request({ ref, userId: "u-1", turnId: "m-2" });
    assert.equal(again.accepted, false);
    assert.equal(d.records.length, 1);
  });

  it("succeeds when one destination fails, and lets the person retry when all fail", async () => {
    const s = service();
    s.register(new Recorder("down", true));
    s.register(new Recorder("up"));
    assert.deepEqual((await s.request({ ref, userId: "u-1" })).deliveredTo, ["up"]);

    const allDown = service();
    allDown.register(new Recorder("down", true));
    const failed = (error: unknown) =>
      error instanceof GatewayError && error.code === ErrorCode.DeliveryFailed;
    await assert.rejects(allDown.request({ ref, userId: "u-1" }), failed);
    await assert.rejects(
      allDown.request({ ref, userId: "u-1" }),
      failed,
      "the failed attempt did not block a retry",
    );
  });

  it("refuses clearly with no destination or nothing to hand over", async () => {
    await assert.rejects(service().request({ ref, userId: "u-1" }), /No handoff destination is configured/);
    const empty = service([]);
    empty.register(new Recorder("slack"));
    await assert.rejects(
      empty.request({ ref, userId: "u-1" }),
      (error: unknown) => error instanceof GatewayError && error.code === ErrorCode.NotFound,
    );
  });
});
