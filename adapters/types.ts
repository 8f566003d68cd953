import type { Express } from "express";
import type { Redis } from "ioredis";
import type { Config } from "../src/config.ts";
import type { Conversations } from "../src/conversation/conversations.ts";
import type { FeedbackService } from "../src/conversation/feedback.ts";
import type { Channel } from "../src/conversation/inbound-message.ts";
import type { HandoffService } from "../src/handoff/handoff-service.ts";
import type { Logger } from "../src/logger.ts";
import type { Metrics } from "../src/metrics.ts";

export type { FinalAnswer, ReplyFailure, ReplySink } from "../src/conversation/conversations.ts";

/** What the gateway hands every adapter at start-up. */
export interface AdapterContext {
  config: Config;
  /** The gateway's HTTP app; an adapter mounts its routes under its own path. */
  app: Express;
  conversations: Conversations;
  /** A shared client for the adapter's own keys (dedupe, sessions, rate limits); prefix with config.redis.prefix. */
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Stores votes on answers with their turns (absent: channels show no vote buttons). */
  feedback?: FeedbackService;
  /** Hands conversations to people; each channel may register its own destination on it. */
  handoff?: HandoffService;
}

/**
 * One messaging channel, after Bolt's Receiver (init/start/stop): it verifies and acknowledges inbound
 * requests, normalises them into InboundMessages, and renders answers through a ReplySink of its own.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  /** Mounts routes and builds clients; no network listeners yet. */
  init(context: AdapterContext): Promise<void>;
  /** Starts anything that runs on its own (Socket Mode, delivery retries). */
  start(): Promise<void>;
  /** Stops taking new messages and lets deliveries in flight finish. */
  stop(): Promise<void>;
  /** Extra lines for /readyz (e.g. "teams: JWT validation OFF"). */
  readiness?(): Record<string, unknown>;
}
