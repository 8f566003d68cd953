import type { Router } from "express";
import type { Redis } from "ioredis";
import { SlackAdapter, slackEnabled } from "../../adapters/slack/slack-adapter.ts";
import { TeamsAdapter } from "../../adapters/teams/teams-adapter.ts";
import type { AdapterContext, ChannelAdapter } from "../../adapters/types.ts";
import { WebchatAdapter } from "../../adapters/webchat/webchat-adapter.ts";
import type { Config } from "../config.ts";
import type { Conversations } from "../conversation/conversations.ts";
import type { FeedbackService } from "../conversation/feedback.ts";
import type { ConversationRef } from "../conversation/inbound-message.ts";
import type { RateLimiter } from "../conversation/rate-limiter.ts";
import type { DeliveryQueues } from "../delivery/delivery-queues.ts";
import type { HandoffService } from "../handoff/handoff-service.ts";
import { HANDOFF_DELIVERY_QUEUE } from "../handoff/webhook-delivery.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { Keyspace } from "../redis/keyspace.ts";

/** The channels this gateway serves; each is enabled by its own configuration. */
export function createAdapters(config: Config): ChannelAdapter[] {
  const adapters: ChannelAdapter[] = [
    new WebchatAdapter({
      webchat: config.webchat,
      ipPerMinute: config.rateLimit.ipPerMinute,
      ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    }),
  ];
  // Teams is always served: without MICROSOFT_APP_ID it runs unverified (warned at start-up and in /readyz).
  adapters.push(new TeamsAdapter(config.teams));
  if (slackEnabled(config.slack)) adapters.push(new SlackAdapter(config.slack));
  return adapters;
}

export interface AdapterContextParts {
  config: Config;
  conversations: Conversations;
  routes: Router;
  redis: Redis;
  keys: Keyspace;
  logger: Logger;
  metrics: Metrics;
  rateLimiter: RateLimiter;
  queues: DeliveryQueues;
  feedback?: FeedbackService;
  handoff?: HandoffService;
}

/** Deletes what each channel keeps of its own about a conversation (privacy erasure). */
export function channelForgetter(
  adapters: ChannelAdapter[],
  redis: Redis,
  keys: Keyspace,
): (ref: ConversationRef) => Promise<number> {
  return async (ref) => {
    const adapter = adapters.find((a) => a.channel === ref.channel);
    return (await adapter?.forget?.(ref, { redis, keys: keys.channel(ref.channel) })) ?? 0;
  };
}

/** Every delivery queue's name (the hand-off webhook's and each channel's), for privacy erasure. */
export function deliveryQueueNames(adapters: readonly ChannelAdapter[]): string[] {
  return [HANDOFF_DELIVERY_QUEUE, ...adapters.flatMap((a) => a.deliveryQueues ?? [])];
}

/** The narrow context one channel gets: its own keys, its metrics, the limits it follows. */
export function adapterContext(adapter: ChannelAdapter, parts: AdapterContextParts): AdapterContext {
  const { config, metrics } = parts;
  return {
    conversations: parts.conversations,
    routes: parts.routes,
    redis: parts.redis,
    keys: parts.keys.channel(adapter.channel),
    logger: parts.logger,
    metrics: { rejected: (code) => metrics.rejected.inc({ channel: adapter.channel, code }) },
    limits: {
      dedupeTtlSeconds: config.conversation.dedupeTtlSeconds,
      maxMessageChars: config.conversation.maxMessageChars,
      answerTimeoutMs: config.llm.answerTimeoutMs,
      shutdownGraceMs: config.queue.shutdownGraceMs,
      logContent: config.log.content,
    },
    rateLimiter: parts.rateLimiter,
    queues: parts.queues.forChannel(adapter.channel),
    ...(parts.feedback ? { feedback: parts.feedback } : {}),
    ...(parts.handoff ? { handoff: parts.handoff } : {}),
  };
}
