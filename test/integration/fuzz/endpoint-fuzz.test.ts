import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { FakeSlackApi } from "../../fakes/fake-slack-api.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";

/**
 * Property-based fuzzing of every HTTP endpoint's input: whatever arrives, the answer is a 2xx for
 * valid input or a 4xx with the JSON error shape, never a 5xx, and the service stays up.
 */
const SIGNING_SECRET = "fuzz-signing-secret-0123456789";
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.constantFrom(
    "\u0000",
    "\u202e\u2066evil\u2069",
    "\u200b\u200c\u200d\ufeff",
    "\ud800",
    "\udfff x \ud83d",
  ),
);

async function expectClientError(res: Response, what: string): Promise<void> {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: status ${res.status}`);
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof body.error?.code, "string", `${what}: coded error`);
  assert.equal(typeof body.error?.message, "string", `${what}: message`);
}

describe("fuzz: every HTTP endpoint answers hostile input with a clear 4xx, never a 5xx", () => {
  let h: Harness;
  let conv: { conversationId: string; token: string };
  let other: { conversationId: string; token: string };
  let slack: FakeSlackApi;
  before(async () => {
    slack = await FakeSlackApi.start();
    h = await startHarness({
      model: false,
      env: {
        MAX_MESSAGE_CHARS: "500",
        // The fake's own token: with a token Slack refuses, Bolt's start-up auth.test rejects unhandled.
        SLACK_BOT_TOKEN: "xoxb-test-token",
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.url,
      },
    });
    conv = await createConversation(h.baseUrl);
    other = await createConversation(h.baseUrl);
  });
  after(async () => {
    await h.stop();
    await slack.close();
  });

  const messagesUrl = () => `${h.baseUrl}/webchat/v1/conversations/${conv.conversationId}/messages`;

  it("message bodies of any JSON shape", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const res = await fetch(messagesUrl(), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${conv.token}` },
          body: JSON.stringify(value),
        });
        if (res.status === 202) {
          const body = (await res.json()) as { messageId: string };
          assert.match(body.messageId, /^m[0-9a-f]{32}$/);
          return;
        }
        await expectClientError(res, `body ${JSON.stringify(value).slice(0, 80)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("message text of any characters: lone surrogates, NUL, bidi and zero-width", async () => {
    await fc.assert(
      fc.asyncProperty(anyText, fc.option(anyText, { nil: undefined }), async (text, clientMessageId) => {
        const res = await fetch(messagesUrl(), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${conv.token}` },
          body: JSON.stringify(clientMessageId === undefined ? { text } : { text, clientMessageId }),
        });
        if (res.status !== 202) await expectClientError(res, "text");
        else await res.body?.cancel();
      }),
      { numRuns: RUNS },
    );
  });

  it("raw bytes that are not JSON, or not UTF-8", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom("application/json", "application/json; charset=latin1", "text/plain"),
        async (bytes, type) => {
          const res = await fetch(messagesUrl(), {
            method: "POST",
            headers: { "content-type": type, authorization: `Bearer ${conv.token}` },
            body: bytes,
          });
          if (res.status !== 202) await expectClientError(res, `bytes as ${type}`);
          else await res.body?.cancel();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("any conversation id, message id, token and Last-Event-ID", async () => {
    const ids = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constant(other.conversationId),
      fc.stringMatching(/^c[0-9a-f]{32}$/),
    );
    const tokens = fc.oneof(fc.string({ maxLength: 80 }), fc.constant(other.token), fc.constant(conv.token));
    await fc.assert(
      fc.asyncProperty(
        ids,
        ids,
        tokens,
        fc.string({ maxLength: 40 }),
        fc.constantFrom("GET", "GET events", "DELETE", "POST"),
        async (id, messageId, token, lastEventId, action) => {
          const base = `${h.baseUrl}/webchat/v1/conversations/${encodeURIComponent(id)}`;
          const headers: Record<string, string> = { "content-type": "application/json" };
          // fetch refuses header values with control characters: those never reach a server either.
          if (/^[\t\x20-\x7e]*$/.test(token)) headers.authorization = `Bearer ${token}`;
          if (/^[\t\x20-\x7e]*$/.test(lastEventId)) headers["last-event-id"] = lastEventId;
          const controller = new AbortController();
          const url =
            action === "GET events"
              ? `${base}/events`
              : action === "DELETE"
                ? `${base}/messages/${encodeURIComponent(messageId)}`
                : action === "POST"
                  ? `${base}/messages`
                  : base;
          const method = action === "GET events" ? "GET" : action;
          const res = await fetch(url, {
            method,
            headers,
            signal: controller.signal,
            ...(method === "POST" ? { body: JSON.stringify({ text: "fuzz question" }) } : {}),
          });
          const own =
            (id === conv.conversationId && token === conv.token) ||
            (id === other.conversationId && token === other.token);
          if (res.status < 300) {
            // Only the conversation's own token opens it; another conversation's token never does.
            assert.ok(own, `${action} ${id} opened with a token that is not its own`);
            controller.abort();
            return;
          }
          await expectClientError(res, `${action} ${id}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("Slack events: unsigned bodies are refused, signed bodies of any shape never break the gateway", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), fc.boolean(), async (value, signed) => {
        const body = JSON.stringify(value);
        const ts = String(Math.floor(Date.now() / 1000));
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (signed) {
          headers["x-slack-request-timestamp"] = ts;
          headers["x-slack-signature"] =
            `v0=${createHmac("sha256", SIGNING_SECRET).update(`v0:${ts}:${body}`).digest("hex")}`;
        }
        const res = await fetch(`${h.baseUrl}/slack/events`, { method: "POST", headers, body });
        await res.body?.cancel();
        assert.ok(res.status < 500, `Slack ${signed ? "signed" : "unsigned"}: status ${res.status}`);
        if (!signed) assert.equal(res.status, 401);
      }),
      { numRuns: RUNS },
    );
  });

  it("Teams activities of any shape never break the gateway", async () => {
    const activity = fc.record(
      {
        type: fc.oneof(fc.constantFrom("message", "invoke", "conversationUpdate"), fc.string()),
        text: anyText,
        serviceUrl: fc.oneof(fc.webUrl(), fc.string()),
        conversation: fc.oneof(fc.record({ id: fc.string(), tenantId: fc.string() }), fc.jsonValue()),
        from: fc.oneof(fc.record({ id: fc.string() }), fc.jsonValue()),
        recipient: fc.jsonValue(),
        channelId: fc.constantFrom("msteams", "webchat", ""),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(activity, fc.jsonValue({ maxDepth: 3 })), async (value) => {
        const res = await fetch(`${h.baseUrl}/api/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(value),
        });
        await res.body?.cancel();
        assert.ok(res.status < 500, `Teams: status ${res.status} for ${JSON.stringify(value).slice(0, 120)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("is still up and answering after the fuzzing", async () => {
    assert.equal((await fetch(`${h.baseUrl}/healthz`)).status, 200);
    const fresh = await createConversation(h.baseUrl);
    const res = await postMessage(
      h.baseUrl,
      fresh.conversationId,
      fresh.token,
      "How do I reset my password?",
    );
    assert.equal(res.status, 202);
    const { messageId } = (await res.json()) as { messageId: string };
    const events = await collectEvents(h.baseUrl, fresh.conversationId, fresh.token, finished(messageId));
    assert.equal(events.filter((e) => e.event === "reply").length, 1);
  });
});
