import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyWebhook } from "../../../src/handoff/webhook-delivery.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import {
  collectEvents,
  createConversation,
  finished,
  postMessage,
  type SseEvent,
} from "../../helpers/webchat-client.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

const SECRET = "webhook-secret-for-tests-0123456789";
const VIEWER = "viewer-token-0123456789abcdef";
const CURATOR = "curator-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef01";

describe("support loop over the web chat API", () => {
  let h: Harness;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-support-"));
    await cp(resolve("knowledge"), dir, { recursive: true });
    // The first delivery attempt fails: the handoff must still arrive, on a retry.
    hook = await startWebhookReceiver([500]);
    h = await startHarness({
      env: {
        KNOWLEDGE_DIR: dir,
        KNOWLEDGE_WATCH: "true",
        HANDOFF_WEBHOOK_URL: hook.url,
        HANDOFF_WEBHOOK_SECRET: SECRET,
        HANDOFF_WEBHOOK_BACKOFF_MS: "100",
        ADMIN_TOKENS: `viewer:${VIEWER},curator:${CURATOR},admin:${ADMIN}`,
      },
    });
  });

  after(async () => {
    await h?.stop();
    await hook?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const admin = (token: string | undefined, path: string, init: RequestInit = {}) =>
    fetch(`${h.baseUrl}/admin/v1${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body ? { "content-type": "application/json" } : {}),
      },
    });

  /** Sends one message and waits for its reply event. */
  async function ask(conv: { conversationId: string; token: string }, text: string, seen: SseEvent[] = []) {
    const res = await postMessage(h.baseUrl, conv.conversationId, conv.token, text);
    assert.equal(res.status, 202);
    const { messageId } = (await res.json()) as { messageId: string };
    const events = await collectEvents(h.baseUrl, conv.conversationId, conv.token, finished(messageId));
    const reply = events.find((e) => e.event === "reply" && e.data.messageId === messageId);
    assert.ok(reply, `no reply for ${messageId}; had ${seen.length} earlier events`);
    return { messageId, reply: reply.data as { text: string; kind: string } };
  }

  it("records a question with no relevant knowledge as a gap, redacted, with the closest files", async () => {
    const conv = await createConversation(h.baseUrl);
    const { reply } = await ask(
      conv,
      "How do I winterize my swimming pool? I am jane.doe@example.com, +44 20 7946 0958",
    );
    assert.equal(reply.kind, "no_answer");
    const res = await admin(CURATOR, "/gaps");
    assert.equal(res.status, 200);
    const body = (await res.json()) as { groups: { examples: string[]; reasons: Record<string, number> }[] };
    const group = body.groups.find((g) => g.examples.some((e) => /swimming pool/.test(e)));
    assert.ok(group, JSON.stringify(body));
    assert.equal(group.reasons.no_answer, 1);
    assert.ok(
      group.examples.every((e) => !e.includes("jane.doe")),
      "the e-mail address was stored",
    );
    assert.ok(
      group.examples.every((e) => !e.includes("7946")),
      "the phone number was stored",
    );
    assert.ok(group.examples.some((e) => e.includes("[email]") && e.includes("[phone]")));
  });

  it("records a thumbs down with its reason as a gap and in the report", async () => {
    const conv = await createConversation(h.baseUrl);
    const { messageId } = await ask(conv, "How do I reset my password?");
    const vote = await fetch(`${h.baseUrl}/webchat/v1/conversations/${conv.conversationId}/feedback`, {
      method: "POST",
      headers: { authorization: `Bearer ${conv.token}`, "content-type": "application/json" },
      body: JSON.stringify({ messageId, vote: "down", reason: "did not help" }),
    });
    assert.equal(vote.status, 200);
    const gaps = (await (await admin(CURATOR, "/gaps")).json()) as {
      groups: { examples: string[]; reasons: Record<string, number> }[];
    };
    assert.ok(
      gaps.groups.some((g) => g.reasons.downvote === 1 && g.examples.includes("How do I reset my password?")),
    );
    const report = (await (await admin(VIEWER, "/reports?since=1d")).json()) as {
      total: { thumbsDown: number; questions: number };
    };
    assert.equal(report.total.thumbsDown, 1);
    assert.ok(report.total.questions >= 2);
  });

  it("hands off on 'talk to a person': told what happens next, signed webhook delivered after a failed attempt, bot silent until released", async () => {
    const conv = await createConversation(h.baseUrl);
    await ask(conv, "My thermostat shows error E4, what now?");
    const { reply } = await ask(conv, "Talk to a person, please!");
    assert.equal(reply.kind, "handoff");
    assert.match(reply.text, /person from our support team/);

    const posts = await hook.waitFor((r) =>
      r.some((p) => p.status === 200 && p.body.includes("handoff.requested")),
    );
    const attempts = posts.filter((p) => p.body.includes("handoff.requested"));
    assert.equal(attempts[0]?.status, 500, "the first attempt should have failed");
    const delivered = attempts.find((p) => p.status === 200);
    assert.ok(delivered);
    assert.equal(delivered.headers["x-delivery-attempt"], "2");
    const ts = String(delivered.headers["x-timestamp"]);
    assert.ok(verifyWebhook(SECRET, ts, delivered.body, String(delivered.headers["x-signature"])));
    assert.equal(
      verifyWebhook(
        "another-secret-0123456789",
        ts,
        delivered.body,
        String(delivered.headers["x-signature"]),
      ),
      false,
    );
    const payload = JSON.parse(delivered.body) as {
      handoffId: string;
      data: {
        channel: string;
        question: string;
        answer: string;
        transcript: unknown[];
        citations: unknown[];
      };
    };
    assert.equal(payload.data.channel, "webchat");
    assert.equal(payload.data.question, "My thermostat shows error E4, what now?");
    assert.equal(payload.data.transcript.length, 1);

    // While handed off: accepted, nothing answered, the text kept for the person taking over.
    const turnsBefore = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: conv.conversationId,
    });
    const res = await postMessage(h.baseUrl, conv.conversationId, conv.token, "Are you still there?");
    assert.equal(res.status, 202);
    const silent = (await res.json()) as { messageId: string; handedOff?: boolean };
    assert.equal(silent.handedOff, true);
    const list = (await (await admin(VIEWER, "/handoffs")).json()) as {
      handoffs: { id: string; followUps: number }[];
    };
    const open = list.handoffs.find((x) => x.id === payload.handoffId);
    assert.ok(open);
    assert.equal(open.followUps, 1);
    await hook.waitFor((r) => r.some((p) => p.status === 200 && p.body.includes("handoff.message")));
    const turnsAfter = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: conv.conversationId,
    });
    assert.equal(turnsAfter.length, turnsBefore.length, "the bot answered while handed off");
    assert.equal(
      await h.conversations.conversationOf(silent.messageId),
      undefined,
      "an answer job was created",
    );

    // Roles: a viewer or curator cannot release; no token is 401.
    assert.equal((await admin(undefined, `/handoffs/${open.id}/release`, { method: "POST" })).status, 401);
    assert.equal((await admin(CURATOR, `/handoffs/${open.id}/release`, { method: "POST" })).status, 403);
    assert.equal(
      (await admin("not-a-token-at-all-123456", `/handoffs/${open.id}/release`, { method: "POST" })).status,
      401,
    );

    // A person replies through the admin API: the user sees it, and the conversation returns to the bot.
    const human = await admin(ADMIN, `/handoffs/${open.id}/reply`, {
      method: "POST",
      body: JSON.stringify({ text: "Hi, this is Sam from support. Please restart the thermostat." }),
    });
    assert.equal(human.status, 200);
    const events = await collectEvents(h.baseUrl, conv.conversationId, conv.token, (es) =>
      es.some((e) => e.event === "reply" && e.data.kind === "human"),
    );
    assert.match(String(events.find((e) => e.data.kind === "human")?.data.text), /Sam from support/);
    assert.equal(
      (await admin(ADMIN, `/handoffs/${open.id}`)).status,
      404,
      "still handed off after the reply",
    );
    const released = await hook.waitFor((r) => r.some((p) => p.body.includes("handoff.released")));
    const releasedBody = JSON.parse(released.find((p) => p.body.includes("handoff.released"))?.body ?? "{}");
    assert.deepEqual(
      { id: releasedBody.handoffId, by: releasedBody.data.by },
      { id: open.id, by: "admin-api" },
    );
    const back = await ask(conv, "How long does delivery take?");
    assert.notEqual(back.reply.kind, "handoff");

    const report = (await (await admin(VIEWER, "/reports")).json()) as { total: { handoffs: number } };
    assert.equal(report.total.handoffs, 1);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    assert.match(metrics, /sgw_report_handoffs\{channel="webchat"\} 1/);
    assert.match(metrics, /sgw_handoffs_total\{channel="webchat"\} 1/);
  });

  it("'back to bot' releases a handoff asked for with the button, and the admin settings change the notice", async () => {
    const put = await admin(ADMIN, "/settings", {
      method: "PUT",
      body: JSON.stringify({ handoffMessage: "A colleague will write to you here shortly." }),
    });
    assert.equal(put.status, 200);
    assert.equal((await admin(CURATOR, "/settings")).status, 403);
    const conv = await createConversation(h.baseUrl);
    const { reply } = await ask(conv, "human");
    assert.equal(reply.text, "A colleague will write to you here shortly.");
    const res = await postMessage(h.baseUrl, conv.conversationId, conv.token, "hello?");
    assert.equal(((await res.json()) as { handedOff?: boolean }).handedOff, true);
    const released = await ask(conv, "back to bot");
    assert.equal(released.reply.kind, "handoff");
    assert.match(released.reply.text, /back with the bot/);
    const answered = await ask(conv, "How do I reset my password?");
    assert.notEqual(answered.reply.kind, "handoff");

    // The "Talk to a person" button gets the same configured text back, for the widget to show.
    const button = await fetch(`${h.baseUrl}/webchat/v1/conversations/${conv.conversationId}/handoff`, {
      method: "POST",
      headers: { authorization: `Bearer ${conv.token}`, "content-type": "application/json" },
      body: JSON.stringify({ messageId: answered.messageId }),
    });
    assert.equal(button.status, 202);
    assert.deepEqual(await button.json(), {
      accepted: true,
      deliveredTo: ["webhook"],
      message: "A colleague will write to you here shortly.",
    });
    const after = await postMessage(h.baseUrl, conv.conversationId, conv.token, "thanks");
    assert.equal(((await after.json()) as { handedOff?: boolean }).handedOff, true);
  });

  it("groups similar unanswered questions, and a new knowledge file answers them (hot reload)", async () => {
    const conv = await createConversation(h.baseUrl);
    for (const q of ["winterizing the swimming pool", "What is the airspeed of a swallow?"]) {
      assert.equal((await ask(conv, q)).reply.kind, "no_answer");
    }
    const body = (await (await admin(CURATOR, "/gaps")).json()) as {
      groups: { label: string; count: number; examples: string[] }[];
    };
    const pool = body.groups.filter((g) => g.examples.some((e) => /swimming pool/.test(e)));
    assert.equal(pool.length, 1, JSON.stringify(body.groups));
    // This one and the first test's question (worded differently, with contact details).
    assert.equal(pool[0]?.count, 2);
    assert.ok(!pool[0]?.examples.some((e) => /swallow/.test(e)));

    await mkdir(join(dir, "outdoor"), { recursive: true });
    await writeFile(
      join(dir, "outdoor", "swimming-pool.md"),
      "---\ntitle: Winterize a swimming pool heater\ntags: [pool, swimming pool, winter]\n---\n\n" +
        "Before winter, switch the swimming pool heater schedule off in the app: **Devices > Pool > Winterize**. " +
        "The thermostat then keeps the pool pump frost-protected.\n",
    );
    const deadline = Date.now() + 15_000;
    let kind = "no_answer";
    while (kind === "no_answer" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      kind = (await ask(conv, "How do I winterize my swimming pool?")).reply.kind;
    }
    assert.notEqual(kind, "no_answer", "the new knowledge file did not answer the question");
  });
});
