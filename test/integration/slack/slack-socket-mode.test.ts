import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { slackTransport } from "../../../adapters/slack/slack-adapter.ts";
import { testConfig } from "../../../src/config.ts";
import { ErrorCode, GatewayError } from "../../../src/errors.ts";
import { appMention } from "../../fakes/slack-events.ts";
import { FakeSocketModeServer } from "../../fakes/slack-socket-server.ts";
import { type SlackStack, startSlackStack } from "./slack-test-stack.ts";

describe("slackTransport", () => {
  const slack = (env: Record<string, string>) => testConfig({ SLACK_BOT_TOKEN: "xoxb-1", ...env }).slack;

  it("uses the Events API when a signing secret is given", () => {
    assert.equal(slackTransport(slack({ SLACK_SIGNING_SECRET: "s" })), "http");
    assert.equal(slackTransport(slack({ SLACK_SIGNING_SECRET: "s", SLACK_APP_TOKEN: "xapp-1" })), "http");
  });

  it("uses Socket Mode when asked, or when only an app-level token is given", () => {
    assert.equal(slackTransport(slack({ SLACK_SOCKET_MODE: "true", SLACK_SIGNING_SECRET: "s" })), "socket");
    assert.equal(slackTransport(slack({ SLACK_APP_TOKEN: "xapp-1" })), "socket");
  });
});

describe("SlackAdapter over Socket Mode (real WebSocket to a fake Slack end)", () => {
  let socket: FakeSocketModeServer;
  let stack: SlackStack;
  before(async () => {
    socket = await FakeSocketModeServer.start();
    stack = await startSlackStack(
      { SLACK_SOCKET_MODE: "true", SLACK_APP_TOKEN: "xapp-test-token" },
      {},
      { socketUrl: socket.url },
    );
  });
  after(async () => {
    await stack.stop();
    await socket.close();
  });

  it("connects with apps.connections.open and the app token, then answers an event in its thread", async () => {
    await stack.fake.waitFor(() => socket.connections === 1);
    const open = stack.fake.callsTo("apps.connections.open")[0];
    assert.equal(open?.token, "xapp-test-token");
    assert.equal(stack.adapter.readiness().transport, "socket");
    const event = appMention("is there a student discount?");
    const envelopeId = socket.sendEvent(event);
    await stack.fake.waitFor(() => socket.acks.includes(envelopeId));
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
    const [message] = stack.fake.messages({ threadTs: event.event.ts });
    assert.equal(message?.text, "Refunds are issued within 5 business days [1].");
  });

  it("answers once when Slack redelivers the envelope (retry_attempt 1)", async () => {
    const before = stack.conversations.submitted.length;
    const event = appMention("can I pause my plan?");
    socket.sendEvent(event);
    const retry = socket.sendEvent(event, 1);
    await stack.fake.waitFor(() => socket.acks.includes(retry));
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(stack.conversations.submitted.length - before, 1);
    assert.equal(stack.fake.callsTo("chat.stopStream").length, 2);
  });

  it("leaves an envelope un-acked when the message could not be accepted, so Slack sends it again", async () => {
    stack.conversations.failWith = new GatewayError(ErrorCode.RedisUnavailable, "Redis is down.");
    const event = appMention("is the shop open on Sunday?");
    const first = socket.sendEvent(event);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(socket.acks.includes(first), false);
    stack.conversations.failWith = undefined;
    const again = socket.sendEvent(event, 1);
    await stack.fake.waitFor(() => socket.acks.includes(again));
    await stack.fake.waitFor((f) => f.messages({ threadTs: event.event.ts }).some((m) => m.complete));
  });
});
