import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Redis } from "ioredis";
import { SlackAdapter, type SlackAdapterOptions } from "../../../adapters/slack/slack-adapter.ts";
import type { AdapterContext } from "../../../adapters/types.ts";
import { adapterContext } from "../../../src/app/channel-adapters.ts";
import { testConfig } from "../../../src/config.ts";
import type {
  Conversations,
  FinalAnswer,
  ReplySink,
  Submission,
} from "../../../src/conversation/conversations.ts";
import { FeedbackService } from "../../../src/conversation/feedback.ts";
import type { ConversationRef, InboundMessage } from "../../../src/conversation/inbound-message.ts";
import { RateLimiter } from "../../../src/conversation/rate-limiter.ts";
import type { Turn } from "../../../src/conversation/turn.ts";
import { DeliveryQueues } from "../../../src/delivery/delivery-queues.ts";
import { ErrorCode, GatewayError } from "../../../src/errors.ts";
import { HandoffService } from "../../../src/handoff/handoff-service.ts";
import { createLogger } from "../../../src/logger.ts";
import { createMetrics } from "../../../src/metrics.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { FakeSlackApi, type FakeSlackApiOptions } from "../../fakes/fake-slack-api.ts";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

/**
 * An in-memory Conversations port for adapter tests: dedupes on the platform message id like the real
 * manager, answers with a scripted stream, and keeps turns per conversation.
 */
export class ScriptedConversations implements Conversations {
  readonly submitted: InboundMessage[] = [];
  /** Every submit call, duplicates included. */
  submitCalls = 0;
  readonly #byPlatformId = new Map<string, string>();
  readonly #messages = new Map<string, InboundMessage>();
  readonly #turns = new Map<string, Turn[]>();
  /** Chunks streamed before the final answer; the final text is their concatenation. */
  chunks = ["Refunds are issued ", "within 5 business days ", "[1]."];
  citations: FinalAnswer["citations"] = [
    { n: 1, title: "Refunds", url: "https://help.example.com/refunds", path: "billing/refunds.md#refunds" },
  ];
  /** When set, submit throws it. */
  failWith: Error | undefined;
  /**
   * When set, the next follow streams its first chunk and then never finishes (its gateway "dies"
   * mid-answer); `hung` resolves once that chunk was handed to the sink.
   */
  hangNextFollow = false;
  hung: Promise<void> | undefined;

  async submit(message: InboundMessage): Promise<Submission> {
    this.submitCalls++;
    if (this.failWith) throw this.failWith;
    if (message.text.trim().length === 0)
      throw new GatewayError(ErrorCode.EmptyText, "Type a question first.");
    const key = `${message.channel}|${message.tenant}|${message.platformMessageId}`;
    const existing = this.#byPlatformId.get(key);
    if (existing) return { messageId: existing, duplicate: true };
    const messageId = `m-${randomUUID()}`;
    this.#byPlatformId.set(key, messageId);
    this.#messages.set(messageId, message);
    this.submitted.push(message);
    return { messageId, duplicate: false };
  }

  async follow(messageId: string, sink: ReplySink): Promise<void> {
    const message = this.#messages.get(messageId);
    if (!message) throw new GatewayError(ErrorCode.NotFound, "no such message");
    await sink.onStart?.();
    if (this.hangNextFollow) {
      this.hangNextFollow = false;
      await sink.onChunk(this.chunks[0] ?? "");
      await new Promise(() => {});
    }
    for (const chunk of this.chunks) await sink.onChunk(chunk);
    const text = this.chunks.join("");
    const ref = `${message.tenant}|${message.conversationKey}`;
    const turns = this.#turns.get(ref) ?? [];
    turns.push({
      id: messageId,
      question: message.text,
      answer: text,
      citations: this.citations,
      at: Date.now(),
    });
    this.#turns.set(ref, turns);
    await sink.onFinal({ messageId, text, citations: this.citations, kind: "answer" });
  }

  async turns(ref: ConversationRef): Promise<Turn[]> {
    return this.#turns.get(`${ref.tenant}|${ref.conversationKey}`) ?? [];
  }

  async setFeedback(
    ref: ConversationRef,
    turnId: string,
    feedback: NonNullable<Turn["feedback"]>,
  ): Promise<boolean> {
    const turn = (await this.turns(ref)).find((t) => t.id === turnId);
    if (!turn) return false;
    turn.feedback = feedback;
    return true;
  }

  async cancel(): Promise<void> {}

  async conversationOf(messageId: string): Promise<string | undefined> {
    return this.#messages.get(messageId)?.conversationKey;
  }

  watch(): () => void {
    return () => {};
  }
}

export interface SlackStack {
  url: string;
  fake: FakeSlackApi;
  conversations: ScriptedConversations;
  adapter: SlackAdapter;
  redis: Redis;
  prefix: string;
  queues: DeliveryQueues;
  metrics: ReturnType<typeof createMetrics>;
  stop(): Promise<void>;
}

export interface SlackStackShare {
  /** Another stack's fake, prefix and conversations: two gateways of one deployment. */
  fake: FakeSlackApi;
  prefix: string;
  conversations: ScriptedConversations;
}

/** Express + the real SlackAdapter (real Bolt) + real Redis + the fake Slack Web API. */
export async function startSlackStack(
  env: Record<string, string> = {},
  options: SlackAdapterOptions = {},
  fakeOptions: FakeSlackApiOptions = {},
  share?: SlackStackShare,
): Promise<SlackStack> {
  const fake = share?.fake ?? (await FakeSlackApi.start(fakeOptions));
  const prefix = share?.prefix ?? `test-${randomUUID()}`;
  const config = testConfig({
    REDIS_PREFIX: prefix,
    SLACK_BOT_TOKEN: fake.options.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.url,
    LOG_LEVEL: "silent",
    SHUTDOWN_GRACE_MS: "1000",
    ...env,
  });
  const redis = new Redis(config.redis.url);
  const workerRedis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const logger = createLogger({ level: "silent" });
  const conversations = share?.conversations ?? new ScriptedConversations();
  const metrics = createMetrics({ defaults: false });
  const keys = new Keyspace(prefix);
  // Short locks, so that a gateway that died is taken over within a couple of seconds.
  const queues = new DeliveryQueues({
    connection: redis,
    workerConnection: workerRedis,
    prefix: keys.bullPrefix(),
    metrics,
    logger,
    lockMs: 1000,
    stalledIntervalMs: 500,
  });
  const app = express();
  const adapter = new SlackAdapter(config.slack, {
    appendIntervalMs: 0,
    updateIntervalMs: 50,
    apiRetries: 3,
    ...options,
  });
  const context: AdapterContext = adapterContext(adapter, {
    config,
    routes: app,
    conversations,
    redis,
    keys,
    logger,
    metrics,
    rateLimiter: new RateLimiter(redis, keys),
    queues,
    feedback: new FeedbackService({ store: conversations, logger }),
    // As the gateway does: one shared hand-off service, on which the channel registers its destination.
    handoff: new HandoffService({ turns: (ref) => conversations.turns(ref), logger, redis, keys }),
  });
  await adapter.init(context);
  await adapter.start();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  return {
    url,
    fake,
    conversations,
    adapter,
    redis,
    prefix,
    queues,
    metrics,
    stop: async () => {
      await adapter.stop();
      await queues.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A stack that shares another's fake and keys leaves them to that one.
      if (!share) {
        await fake.close();
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
      workerRedis.disconnect();
    },
  };
}
