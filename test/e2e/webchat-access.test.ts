import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signUserId } from "../../adapters/webchat/identity.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";

/**
 * Who may talk, checked over HTTP against the whole gateway (real Redis): origins and CORS, site-bound
 * conversations, identities, per-IP and per-user limits, and resuming the event stream.
 */

const shopOrigin = "https://shop.example";
const secret = "shop-identity-secret-0123456789";

interface Created {
  conversationId: string;
  token: string;
}

describe("web chat access rules (gateway over HTTP)", () => {
  let harness: Harness;
  let api: string;

  before(async () => {
    harness = await startHarness({
      env: {
        MAX_ANSWER_TOKENS: "48",
        WEBCHAT_ALLOWED_ORIGINS: "https://www.brightnest.example",
        WEBCHAT_SITES: JSON.stringify([{ id: "shop", origins: [shopOrigin], identitySecret: secret }]),
        RATE_LIMIT_USER_PER_MINUTE: "3",
      },
    });
    api = `${harness.baseUrl}/webchat/v1/conversations`;
  });

  after(async () => {
    await harness?.stop();
  });

  const create = async (origin?: string, body: unknown = {}): Promise<Response> =>
    fetch(api, {
      method: "POST",
      headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
      body: JSON.stringify(body),
    });
  const send = (c: Created, text: string, origin?: string) =>
    fetch(`${api}/${c.conversationId}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${c.token}`,
        "content-type": "application/json",
        ...(origin ? { origin } : {}),
      },
      body: JSON.stringify({ text }),
    });
  const codeOf = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

  it("answers CORS for allowed origins only, echoing the origin and never a wildcard", async () => {
    const ok = await fetch(api, {
      method: "OPTIONS",
      headers: {
        origin: "https://www.brightnest.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://www.brightnest.example");
    assert.match(ok.headers.get("access-control-allow-headers") ?? "", /last-event-id/);
    assert.match(ok.headers.get("vary") ?? "", /Origin/i);

    const refused = await create("https://evil.example");
    assert.equal(refused.status, 403);
    assert.equal(await codeOf(refused), "origin_refused");

    const same = await create(harness.baseUrl);
    assert.equal(same.status, 201, "the gateway's own pages (the demo) are allowed by default");
    assert.equal(same.headers.get("access-control-allow-origin"), null, "same-origin needs no CORS");
  });

  it("serves widget.js to any page, gzipped and cacheable, and the demo page under a strict CSP", async () => {
    const script = await fetch(`${harness.baseUrl}/webchat/widget.js`, {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.equal(script.headers.get("content-encoding"), "gzip");
    assert.equal(script.headers.get("cross-origin-resource-policy"), "cross-origin");
    assert.match(await script.text(), /support-chat/);
    const etag = script.headers.get("etag");
    assert.ok(etag);
    const again = await fetch(`${harness.baseUrl}/webchat/widget.js`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);

    const demo = await fetch(`${harness.baseUrl}/webchat/demo`);
    assert.equal(demo.status, 200);
    const csp = demo.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(
      await demo.text(),
      /<script src="\/webchat\/widget\.js" data-title="[^"]+" data-accent="#[0-9a-f]+" async><\/script>/,
    );
  });

  it("keeps a conversation to the site that started it and its token to that conversation", async () => {
    const shop = (await (await create(shopOrigin)).json()) as Created;
    const other = (await (await create("https://www.brightnest.example")).json()) as Created;
    const fromOtherSite = await send(shop, "hello", "https://www.brightnest.example");
    assert.equal(fromOtherSite.status, 403);
    assert.equal(await codeOf(fromOtherSite), "origin_refused");
    const wrongConversation = await send(
      { conversationId: other.conversationId, token: shop.token },
      "hello",
    );
    assert.equal(wrongConversation.status, 403);
    assert.equal(await codeOf(wrongConversation), "token_wrong_conversation");
    const events = await fetch(`${api}/${other.conversationId}/events`, {
      headers: { authorization: `Bearer ${shop.token}` },
    });
    assert.equal(events.status, 403);
    assert.equal((await send(shop, "How long does a refund take?", shopOrigin)).status, 202);
  });

  it("verifies identities per site and limits a verified user across conversations", async () => {
    const userHash = signUserId(secret, "user-7");
    const forged = await create(shopOrigin, {
      userId: "user-7",
      userHash: signUserId("wrong-secret-000000", "user-7"),
    });
    assert.equal(forged.status, 401);
    assert.equal(await codeOf(forged), "unauthorized");
    const noSecret = await create("https://www.brightnest.example", { userId: "user-7", userHash });
    assert.equal(noSecret.status, 403, "the default site has no identity secret");

    const first = (await (await create(shopOrigin, { userId: "user-7", userHash })).json()) as Created;
    const second = (await (await create(shopOrigin, { userId: "user-7", userHash })).json()) as Created;
    const statuses = [];
    for (const [c, n] of [
      [first, 1],
      [second, 2],
      [first, 3],
      [second, 4],
    ] as const) {
      statuses.push((await send(c, `Question ${n} about refunds?`, shopOrigin)).status);
    }
    // RATE_LIMIT_USER_PER_MINUTE=3 counts the user, not the conversation (unless the minute turned over).
    assert.ok(statuses.includes(429), `the fourth message of one user in a minute is refused: ${statuses}`);
  });

  it("resumes the event stream after the last event received, without sending any text twice", async () => {
    const c = (await (await create()).json()) as Created;
    assert.equal((await send(c, "Why is my thermostat offline?")).status, 202);
    const full = await readEvents(`${api}/${c.conversationId}/events`, c.token, undefined);
    const tokens = full.filter((e) => e.event === "token");
    assert.ok(tokens.length >= 1, "the answer streamed at least one token");
    const cut = tokens[0];
    assert.ok(cut);
    const resumed = await readEvents(`${api}/${c.conversationId}/events`, c.token, cut.id);
    const allIds = full.map((e) => e.id);
    const after = full.slice(allIds.indexOf(cut.id) + 1);
    assert.deepEqual(
      resumed.map((e) => e.id),
      after.map((e) => e.id),
      "exactly the events after the resume point",
    );
    const text = (events: { event: string; data: string }[]) =>
      events
        .filter((e) => e.event === "token")
        .map((e) => (JSON.parse(e.data) as { text: string }).text)
        .join("");
    const final = JSON.parse(full.find((e) => e.event === "reply")?.data ?? "{}") as { text: string };
    assert.equal(text([cut]) + text(resumed), text(full));
    assert.ok(final.text.startsWith(text(full).slice(0, 10)));
  });
});

describe("web chat per-IP limit (gateway over HTTP)", () => {
  let harness: Harness;

  before(async () => {
    harness = await startHarness({ model: false, worker: false, env: { RATE_LIMIT_IP_PER_MINUTE: "3" } });
  });

  after(async () => {
    await harness?.stop();
  });

  it("refuses conversations past the per-IP limit with 429 and Retry-After", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    // Three per one-minute window; a window that turns over mid-loop lets up to three more through.
    while (statuses.length < 7 && !statuses.includes(429)) {
      const res = await fetch(`${harness.baseUrl}/webchat/v1/conversations`, { method: "POST" });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    assert.equal(statuses.at(-1), 429, `${statuses}`);
    assert.ok(
      statuses.slice(0, 3).every((s) => s === 201),
      `${statuses}`,
    );
    assert.match(retryAfter ?? "", /^\d+$/);
    const code = await fetch(`${harness.baseUrl}/webchat/v1/conversations`, { method: "POST" }).then((r) =>
      r.json(),
    );
    assert.equal((code as { error: { code: string } }).error.code, "rate_limited");
  });
});

/** Reads one answer's events (until its final reply) from the SSE endpoint. */
async function readEvents(
  url: string,
  token: string,
  lastEventId: string | undefined,
): Promise<{ id: string; event: string; data: string }[]> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId) headers["last-event-id"] = lastEventId;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 20_000);
  const res = await fetch(url, { headers, signal: abort.signal });
  assert.equal(res.status, 200);
  if (!res.body) throw new Error("no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events: { id: string; event: string; data: string }[] = [];
  try {
    while (!events.some((e) => e.event === "reply" || e.event === "error")) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(block)?.[1];
        const event = field("event");
        if (event) events.push({ id: field("id") ?? "", event, data: field("data") ?? "" });
        end = buffer.indexOf("\n\n");
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}
