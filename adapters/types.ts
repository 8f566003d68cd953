import type { Router } from "express";
import type { Redis } from "ioredis";
import type { Conversations } from "../src/conversation/conversations.ts";
import type { FeedbackService } from "../src/conversation/feedback.ts";
import type { Channel, ConversationRef } from "../src/conversation/inbound-message.ts";
import type { RateLimiter } from "../src/conversation/rate-limiter.ts";
import type { DeliveryQueueFactory } from "../src/delivery/delivery-queues.ts";
import type { HandoffService } from "../src/handoff/handoff-service.ts";
import type { Logger } from "../src/logger.ts";
import type { ChannelKeys } from "../src/redis/keyspace.ts";

export type { FinalAnswer, ReplyFailure, ReplySink } from "../src/conversation/conversations.ts";

/**
 * The Redis commands channels call, on a client they share (after BullMQ's IRedisClient: only what is
 * used). Keys come from `AdapterContext.keys`, never formatted by hand.
 */
export type ChannelRedis = Pick<
  Redis,
  | "get"
  | "set"
  | "del"
  | "exists"
  | "expire"
  | "pexpire"
  | "hset"
  | "hget"
  | "hgetall"
  | "hdel"
  | "hlen"
  | "multi"
  | "eval"
  | "zadd"
  | "zrem"
  | "zcard"
  | "zscore"
  | "zrangebyscore"
>;

/** What a channel counts on /metrics. */
export interface ChannelMetrics {
  /** A message refused before it reached the conversation layer, by error code. */
  rejected(code: string): void;
}

/** Settings of the whole service that channels follow (their own settings come with their constructor). */
export interface ChannelLimits {
  /** How long a platform message id is remembered (redeliveries within it are dropped). */
  dedupeTtlSeconds: number;
  /** Longest accepted message, in characters. */
  maxMessageChars: number;
  /** Time budget of one answer (a follower gives up a while after it). */
  answerTimeoutMs: number;
  /** On SIGTERM, how long deliveries in flight may take to finish. */
  shutdownGraceMs: number;
  /** Whether message text may be logged (LOG_CONTENT). */
  logContent: boolean;
}

/** What the gateway hands every adapter at start-up: narrow on purpose, so a channel stays replaceable. */
export interface AdapterContext {
  conversations: Conversations;
  /** Mounted on the gateway's HTTP server at `/`; a channel adds its routes under its own path. */
  routes: Router;
  redis: ChannelRedis;
  /** The channel's own keys (`<prefix>:<channel>:…`). */
  keys: ChannelKeys;
  logger: Logger;
  metrics: ChannelMetrics;
  limits: ChannelLimits;
  /**
   * Creates the channel's outbound delivery queues (BullMQ, under the keyspace's bull prefix, named
   * `<channel>-<name>`): every message a channel sends after the inbound request is answered goes
   * through one, for retries, Retry-After, take-over when a gateway dies, dead letters and metrics.
   */
  queues: DeliveryQueueFactory;
  /** Shared fixed-window rate limits (per user, per IP). */
  rateLimiter: RateLimiter;
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
  /** The full names of the delivery queues the channel creates (privacy erasure scans them). */
  readonly deliveryQueues?: readonly string[];
  /**
   * Posts a support person's reply into a handed-off conversation (the admin API's "reply as a person").
   * Needs `init`.
   */
  replyAsPerson?(ref: ConversationRef, text: string): Promise<void>;
  /** Extra lines for /readyz (e.g. "teams: JWT validation OFF"). */
  readiness?(): Record<string, unknown>;
  /**
   * Deletes what the channel itself keeps about a conversation (privacy erasure); returns keys deleted.
   * Needs no init: the `users delete` command calls it without starting the channel.
   */
  forget?(ref: ConversationRef, store: { redis: ChannelRedis; keys: ChannelKeys }): Promise<number>;
}
