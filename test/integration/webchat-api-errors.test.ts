import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SessionTokens } from "../../adapters/webchat/session-token.ts";
import { Keyspace } from "../../src/redis/keyspace.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { createConversation, postMessage } from "../helpers/webchat-client.ts";

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe("web chat API: bad input gets a 4xx JSON error", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ worker: false, env: { MAX_MESSAGE_CHARS: "50" } });
  });
  after(async () => {
    await h.stop();
  });

  it("refuses a missing, malformed or forged token", async () => {
    const { conversationId } = await createConversation(h.baseUrl);
    const url = `${h.baseUrl}/webchat/v1/conversations/${conversationId}`;
    const missing = await fetch(url);
    assert.equal(missing.status, 401);
    assert.equal((await errorOf(missing)).code, "token_missing");
    const bad = await fetch(url, { headers: { authorization: "Bearer nonsense" } });
    assert.equal(bad.status, 401);
    assert.equal((await errorOf(bad)).code, "token_invalid");
    const forged = new SessionTokens("not-the-secret", 3600).issue(conversationId, "u");
    const forgedRes = await fetch(url, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal((await errorOf(forgedRes)).code, "token_invalid");
  });

  it("refuses an expired token", async () => {
    const { conversationId } = await createConversation(h.baseUrl);
    const secret = (await h.redis.get(
      new Keyspace(h.config.redis.prefix).channel("webchat").key("secret"),
    )) as string;
    const expired = new SessionTokens(secret, 60).issue(conversationId, "u", Date.now() - 3600_000);
    const res = await fetch(`${h.baseUrl}/webchat/v1/conversations/${conversationId}`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    assert.equal(res.status, 401);
    assert.equal((await errorOf(res)).code, "token_expired");
  });

  it("refuses a token for another conversation", async () => {
    const a = await createConversation(h.baseUrl);
    const b = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, b.conversationId, a.token, "hello");
    assert.equal(res.status, 403);
    assert.equal((await errorOf(res)).code, "token_wrong_conversation");
    const events = await fetch(
      `${h.baseUrl}/webchat/v1/conversations/${b.conversationId}/events?token=${a.token}`,
    );
    assert.equal(events.status, 403);
  });

  it("answers 404 for an unknown conversation", async () => {
    const secret = (await h.redis.get(
      new Keyspace(h.config.redis.prefix).channel("webchat").key("secret"),
    )) as string;
    const id = `c${"0".repeat(32)}`;
    const token = new SessionTokens(secret, 60).issue(id, "u");
    const res = await fetch(`${h.baseUrl}/webchat/v1/conversations/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 404);
    assert.equal((await errorOf(res)).code, "conversation_not_found");
  });

  it("refuses empty, oversized and malformed messages", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const empty = await postMessage(h.baseUrl, conversationId, token, "   ");
    assert.equal(empty.status, 400);
    assert.equal((await errorOf(empty)).code, "empty_text");
    const long = await postMessage(h.baseUrl, conversationId, token, "x".repeat(51));
    assert.equal(long.status, 413);
    assert.equal((await errorOf(long)).code, "text_too_long");
    const url = `${h.baseUrl}/webchat/v1/conversations/${conversationId}/messages`;
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const malformed = await fetch(url, { method: "POST", headers, body: '{"text": ' });
    assert.equal(malformed.status, 400);
    assert.equal((await errorOf(malformed)).code, "malformed_json");
    const wrongShape = await fetch(url, { method: "POST", headers, body: '{"text": 42}' });
    assert.equal(wrongShape.status, 400);
    assert.equal((await errorOf(wrongShape)).code, "bad_request");
    const huge = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ text: "y".repeat(2_000_000) }),
    });
    assert.equal(huge.status, 413);
    assert.equal((await errorOf(huge)).code, "payload_too_large");
  });

  it("reports health, readiness and Prometheus metrics", async () => {
    assert.equal((await fetch(`${h.baseUrl}/healthz`)).status, 200);
    // No worker runs in this harness: the gateway can still accept and queue work, so it is ready, and
    // says that nobody will answer.
    const ready = await fetch(`${h.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { redis: string; mode: string; warnings: string[] };
    assert.equal(body.redis, "ok");
    assert.equal(body.mode, "no worker ready");
    assert.ok(
      body.warnings.some((w) => w.includes("QUEUE_WAIT_MS")),
      body.warnings.join("; "),
    );
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    for (const name of [
      "sgw_messages_total",
      "sgw_queue_wait_seconds",
      "sgw_time_to_first_token_seconds",
      "sgw_answer_seconds",
    ]) {
      assert.ok(metrics.includes(name), `${name} exported`);
    }
  });
});
