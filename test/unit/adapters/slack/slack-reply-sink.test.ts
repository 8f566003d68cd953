import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { webApi } from "@slack/bolt";
import type { SlackReplyTarget } from "../../../../adapters/slack/slack-message.ts";
import {
  remainder,
  SlackReplySink,
  type StreamingSupport,
} from "../../../../adapters/slack/slack-reply-sink.ts";
import { createLogger } from "../../../../src/logger.ts";
import { FakeSlackApi } from "../../../fakes/fake-slack-api.ts";

const target: SlackReplyTarget = {
  channel: "C0LAN2Q65",
  threadTs: "1700000000.000100",
  messageTs: "1700000000.000100",
  userId: "U061F7AUR",
  teamId: "T061EG9R6",
  tenant: "T061EG9R6",
  isDirect: false,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("SlackReplySink against the fake Web API", () => {
  let fake: FakeSlackApi;
  let client: webApi.WebClient;
  before(async () => {
    fake = await FakeSlackApi.start();
    client = new webApi.WebClient(fake.options.botToken, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 2 },
    });
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const sink = (
    streaming: StreamingSupport,
    options: { appendIntervalMs?: number; updateIntervalMs?: number } = {},
  ) =>
    new SlackReplySink({
      client,
      target,
      messageId: "m-1",
      conversationKey: `${target.channel}:${target.threadTs}`,
      controls: { feedback: true, handoff: false },
      streaming,
      logger: createLogger({ level: "silent" }),
      workingReaction: "",
      ...options,
    });

  it("batches streamed pieces: at most one append per interval, nothing lost", async () => {
    const s = sink({ enabled: true }, { appendIntervalMs: 200 });
    const words = Array.from({ length: 60 }, (_, i) => `w${i} `);
    for (const w of words) {
      await s.onChunk(w);
      await sleep(10);
    }
    await s.onFinal({ messageId: "m-1", text: words.join("").trim(), citations: [], kind: "answer" });
    const appends = fake.callsTo("chat.appendStream");
    assert.ok(
      appends.length >= 1 && appends.length <= 5,
      `${appends.length} appends for 60 pieces over ~0.6 s`,
    );
    const [message] = fake.messages();
    assert.equal(message?.text.trim(), words.join("").trim());
    assert.equal(fake.callsTo("chat.stopStream").length, 1);
  });

  it("updates a posted message at most once a second when it cannot stream", async () => {
    const s = sink({ enabled: false }, { updateIntervalMs: 1000 });
    const started = Date.now();
    let text = "";
    while (Date.now() - started < 2300) {
      text += "x";
      await s.onChunk("x");
      await sleep(20);
    }
    await s.onFinal({ messageId: "m-1", text, citations: [], kind: "answer" });
    assert.equal(fake.callsTo("chat.startStream").length, 0);
    const writes = [...fake.callsTo("chat.postMessage"), ...fake.callsTo("chat.update")].map((c) => c.at);
    for (let i = 1; i < writes.length; i++) {
      const gap = (writes[i] as number) - (writes[i - 1] as number);
      assert.ok(gap >= 990, `writes ${gap.toFixed(0)} ms apart`);
    }
    assert.ok(writes.length >= 3 && writes.length <= 4);
    assert.equal(fake.messages()[0]?.text, text);
  });

  it("rewrites the message when the final answer differs from what was streamed", async () => {
    const s = sink({ enabled: true });
    await s.onChunk("Draft answer");
    await s.onFinal({ messageId: "m-1", text: "Corrected answer", citations: [], kind: "answer" });
    assert.equal(fake.callsTo("chat.stopStream").length, 1);
    const [message] = fake.messages();
    assert.equal(message?.text, "Corrected answer");
  });

  it("posts the whole answer at once when nothing was streamed", async () => {
    const s = sink({ enabled: true });
    await s.onFinal({
      messageId: "m-1",
      text: "From the guide",
      citations: [{ n: 1, title: "Guide", path: "guide.md" }],
      kind: "excerpt",
    });
    const [post] = fake.callsTo("chat.postMessage");
    assert.equal(post?.args.thread_ts, target.threadTs);
    assert.match(String(post?.args.text), /From the guide\n\nSources: \[1\] Guide/);
    assert.match(JSON.stringify(post?.args.blocks), /\[1\] Guide \(guide\.md\)/);
  });

  it("tells the thread when the answer fails, mid-stream or before any text", async () => {
    const streaming = sink({ enabled: true });
    await streaming.onChunk("Partial");
    await streaming.onError({ messageId: "m-1", code: "timeout", message: "slow" });
    const stop = fake.callsTo("chat.stopStream")[0];
    assert.match(String(stop?.args.markdown_text), /took too long/);
    const early = sink({ enabled: true });
    await early.onError({ messageId: "m-1", code: "inference_failed", message: "x" });
    assert.match(String(fake.callsTo("chat.postMessage")[0]?.args.text), /could not answer/);
  });

  it("fails with delivery_failed when Slack refuses the final answer", async () => {
    fake.refuse("chat.postMessage", "channel_not_found");
    const s = sink({ enabled: true });
    await assert.rejects(
      s.onFinal({ messageId: "m-1", text: "x", citations: [], kind: "answer" }),
      (error: unknown) => (error as { code?: string }).code === "delivery_failed",
    );
  });
});

describe("remainder", () => {
  it("appends what was not yet shown, ignoring whitespace at the ends", () => {
    assert.equal(remainder("Hello", " world ", "Hello world"), " world");
    assert.equal(remainder(" Hello", "", "Hello there"), " there");
    assert.equal(remainder("Hello", "", "Goodbye"), undefined);
  });
});
