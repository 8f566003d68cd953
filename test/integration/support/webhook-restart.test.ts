import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import type { HandoffRecord } from "../../../src/handoff/handoff-service.ts";
import { verifyWebhook } from "../../../src/handoff/webhook-delivery.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

const SECRET = "restart-webhook-secret-0123456789";

describe("handoff webhook deliveries survive a gateway restart", () => {
  const prefix = `test-${randomUUID()}`;
  let first: Harness | undefined;
  let second: Harness | undefined;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;

  after(async () => {
    await first?.stop().catch(() => undefined);
    const redis = second?.redis;
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await second?.stop();
    await hook?.close();
  });

  it("a delivery refused while the first gateway runs is delivered by the next one", async () => {
    // Refused three times: the first gateway sees the refusals, then stops before the next retry.
    hook = await startWebhookReceiver([500, 500, 500]);
    const env = {
      REDIS_PREFIX: prefix,
      HANDOFF_WEBHOOK_URL: hook.url,
      HANDOFF_WEBHOOK_SECRET: SECRET,
      HANDOFF_WEBHOOK_BACKOFF_MS: "400",
    };
    first = await startHarness({ worker: false, model: false, env });
    const record: HandoffRecord = {
      id: "h-restart",
      channel: "webchat",
      tenant: "web",
      conversationKey: "conv-restart",
      userId: "u1",
      question: "Where is my parcel?",
      answer: "",
      citations: [],
      transcript: [],
      requestedAt: Date.now(),
    };
    await first.gateway.support.webhook?.deliver(record);
    await hook.waitFor((r) => r.length >= 2);
    await first.gateway.close();
    first = undefined;
    const refusedWhileUp = hook.received.length;

    second = await startHarness({ worker: false, model: false, env });
    const posts = await hook.waitFor((r) => r.some((p) => p.status === 200), 30_000);
    const ok = posts.find((p) => p.status === 200);
    assert.ok(ok);
    assert.ok(refusedWhileUp >= 2);
    assert.equal(posts.filter((p) => p.status === 200).length, 1, "delivered once");
    assert.equal(posts.filter((p) => p.status !== 200).length, 3);
    assert.ok(
      verifyWebhook(SECRET, String(ok.headers["x-timestamp"]), ok.body, String(ok.headers["x-signature"])),
    );
    const ids = new Set(posts.map((p) => p.headers["x-delivery-id"]));
    assert.equal(ids.size, 1, "every attempt carries the same delivery id");
    assert.equal((JSON.parse(ok.body) as { data: HandoffRecord }).data.question, "Where is my parcel?");
  });
});

describe("erasing a user removes their undelivered webhook handoffs", () => {
  const ADMIN = "admin-token-0123456789abcdef01";
  let h: Harness | undefined;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
  after(async () => {
    await h?.stop();
    await hook?.close();
  });

  it("drops the user's queued deliveries and keeps other users'", async () => {
    hook = await startWebhookReceiver(Array.from({ length: 50 }, () => 500));
    h = await startHarness({
      worker: false,
      model: false,
      env: {
        HANDOFF_WEBHOOK_URL: hook.url,
        HANDOFF_WEBHOOK_SECRET: SECRET,
        HANDOFF_WEBHOOK_BACKOFF_MS: "5000",
        ADMIN_TOKENS: `admin:${ADMIN}`,
      },
    });
    const webhook = h.gateway.support.webhook;
    assert.ok(webhook);
    const record = (userId: string): HandoffRecord => ({
      id: `h-${userId}`,
      channel: "webchat",
      tenant: "web",
      conversationKey: `conv-${userId}`,
      userId,
      question: "Where is my parcel?",
      answer: "",
      citations: [],
      transcript: [],
      requestedAt: Date.now(),
    });
    await webhook.deliver(record("u-erased"));
    await webhook.deliver(record("u-kept"));
    await hook.waitFor((r) => r.length >= 2);
    const res = await fetch(`${h.baseUrl}/admin/v1/users/webchat/u-erased`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { deliveries: number }).deliveries, 1);
    const left = await webhook.queue.getJobs(["waiting", "delayed", "failed", "active", "prioritized"]);
    assert.deepEqual(
      left.map((j) => (j.data as { data: { userId: string } }).data.userId),
      ["u-kept"],
    );
  });
});
