import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue } from "bullmq";
import express, { type Express } from "express";
import type { Redis } from "ioredis";
import type { ChannelAdapter } from "../../adapters/types.ts";
import { ledgerFor } from "../answering/answer-ledger.ts";
import { ConversationManager } from "../answering/conversation-manager.ts";
import { readQueueStats } from "../answering/queue-stats.ts";
import { QueueWaitJanitor } from "../answering/queue-wait.ts";
import { ReplyHub } from "../answering/reply-hub.ts";
import type { Config } from "../config.ts";
import { contextStoreFor } from "../conversation/context-store.ts";
import { FeedbackService } from "../conversation/feedback.ts";
import { RateLimiter } from "../conversation/rate-limiter.ts";
import { DeliveryQueues } from "../delivery/delivery-queues.ts";
import { HandoffService } from "../handoff/handoff-service.ts";
import { createHttpApp, errorHandler, notFoundHandler } from "../http/http-app.ts";
import type { KnowledgeBase, KnowledgeStats } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";
import { createMetrics, type Metrics } from "../metrics.ts";
import { Keyspace } from "../redis/keyspace.ts";
import { createRedis } from "../redis/redis-client.ts";
import { mountHealthRoutes } from "../server/health-routes.ts";
import { mountLandingPage } from "../server/landing-page.ts";
import { adapterContext, createAdapters } from "./channel-adapters.ts";
import { openKnowledge } from "./knowledge.ts";
import { createSupportLoop, type SupportLoop } from "./support-loop.ts";

export interface Gateway {
  readonly app: Express;
  readonly server: Server;
  /** The port actually bound (PORT=0 picks a free one). */
  readonly port: number;
  readonly conversations: ConversationManager;
  /** The answer queue this gateway adds to. */
  readonly queue: Queue;
  /** Ends messages no worker takes within QUEUE_WAIT_MS. */
  readonly queueWait: QueueWaitJanitor;
  readonly knowledge: KnowledgeBase;
  readonly redis: Redis;
  readonly metrics: Metrics;
  readonly adapters: ChannelAdapter[];
  /** Handoff state, analytics, gaps, admin API (see src/app/support-loop.ts). */
  readonly support: SupportLoop;
  /** Stops accepting connections, stops adapters, releases Redis. */
  close(): Promise<void>;
}

/**
 * Why the knowledge base cannot serve yet: its folder is missing (a gateway without knowledge would
 * answer every question with "I don't know"), or it has not finished its first load.
 */
function knowledgeProblem(stats: KnowledgeStats, watching: boolean): string | undefined {
  if (!stats.exists) {
    return watching
      ? `knowledge folder ${stats.dir} not found: create it or set KNOWLEDGE_DIR (it is looked for every second)`
      : `knowledge folder ${stats.dir} not found: create it or set KNOWLEDGE_DIR, then restart (KNOWLEDGE_WATCH=false)`;
  }
  if (stats.loadedAt === null) return `knowledge folder ${stats.dir} is still loading`;
  return undefined;
}

export interface GatewayOptions {
  /** Channels to serve. @defaultValue createAdapters(config) */
  adapters?: ChannelAdapter[];
  metrics?: Metrics;
  /** The clock of time-window rules (rate limits); tests fix it instead of waiting. @defaultValue Date.now */
  now?: () => number;
  /** The knowledge folder, already open (one process running gateway and worker shares it). */
  knowledge?: KnowledgeBase;
  /** Delivery timings (tests shorten the take-over of a dead gateway's deliveries). */
  delivery?: { lockMs?: number; stalledIntervalMs?: number };
}

/** The HTTP process: channel adapters, the web chat API, health and metrics, over one conversation manager. */
export async function startGateway(
  config: Config,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const log = logger.child({ component: "gateway" });
  const keys = new Keyspace(config.redis.prefix);
  // Commands issued in the same tick share one round trip (many requests at once cost few writes).
  const redis = createRedis(config.redis.url, log, { name: "gateway", autoPipeline: true });
  const subscriber = createRedis(config.redis.url, log, { blocking: true, name: "gateway-events" });
  const queueConnection = createRedis(config.redis.url, log, { name: "gateway-queue", autoPipeline: true });
  const metrics = options.metrics ?? createMetrics();
  const queue = new Queue(config.queue.name, { connection: queueConnection, prefix: keys.bullPrefix() });
  // Every outbound message (Slack, Teams, the hand-off webhook) goes through one of these queues.
  const deliveryConnection = createRedis(config.redis.url, log, { blocking: true, name: "gateway-delivery" });
  const queues = new DeliveryQueues({
    connection: queueConnection,
    workerConnection: deliveryConnection,
    prefix: keys.bullPrefix(),
    metrics,
    logger,
    keepFailedSeconds: config.admin.retentionDays * 86_400,
    ...options.delivery,
  });
  const hub = new ReplyHub({ redis, subscriber, keys, logger });
  await hub.start();
  const ownsKnowledge = options.knowledge === undefined;
  const knowledge = options.knowledge ?? (await openKnowledge(config, logger));
  const contextStore = contextStoreFor(redis, keys, config.conversation);
  const rateLimiter = new RateLimiter(redis, keys, options.now);
  const support = createSupportLoop({ config, redis, keys, knowledge, metrics, logger, queues });
  const ledger = ledgerFor(redis, keys, config.conversation);
  const janitor = new QueueWaitJanitor({
    queue,
    ledger,
    waitMs: config.queue.waitMs,
    logger,
    onExpired: () => metrics.queueWaitExpired.inc(),
  });
  const conversations = new ConversationManager({
    config,
    keys,
    ledger,
    contextStore,
    queue,
    hub,
    rateLimiter,
    metrics,
    logger,
    publishCancel: (messageId) => redis.publish(keys.cancelChannel(), messageId),
    gate: support.gate,
  });

  const app = createHttpApp();
  const adapters = options.adapters ?? createAdapters(config);
  // Shared by every channel: votes are stored with their turns; each channel registers its handoff destination.
  const feedback = new FeedbackService({ store: contextStore, logger });
  const handoff = new HandoffService({
    turns: (ref) => conversations.turns(ref),
    logger,
    redis,
    keys,
    dedupeTtlSeconds: config.conversation.dedupeTtlSeconds,
    states: support.states,
    notice: async () => (await support.settings.get()).handoffMessage,
  });
  support.attach({ app, conversations, handoff, feedback, adapters, context: contextStore });
  mountHealthRoutes(app, {
    redis,
    metrics,
    queueStats: () => readQueueStats(queue, redis, keys),
    beforeScrape: () => Promise.all([conversations.queueDepth(), support.refreshMetrics(), queues.sample()]),
    problems: () => {
      const problem = knowledgeProblem(knowledge.stats(), config.knowledge.watch);
      return problem ? [problem] : [];
    },
    details: () => {
      const stats = knowledge.stats();
      const problem = knowledgeProblem(stats, config.knowledge.watch);
      return {
        knowledge: {
          ready: problem === undefined,
          ...(problem ? { reason: problem } : {}),
          files: stats.files,
          chunks: stats.chunks,
          skipped: stats.skipped.length,
        },
        channels: Object.fromEntries(adapters.map((a) => [a.channel, a.readiness?.() ?? "enabled"])),
      };
    },
  });
  mountLandingPage(app, { publicUrl: config.server.publicUrl });
  // Channels get a router of their own, mounted before the error handler, and no more of the app.
  const routes = express.Router();
  app.use(routes);
  const parts = {
    config,
    conversations,
    routes,
    redis,
    keys,
    logger,
    metrics,
    rateLimiter,
    queues,
    feedback,
    handoff,
  };
  for (const adapter of adapters) await adapter.init(adapterContext(adapter, parts));
  app.use(errorHandler(log));
  for (const adapter of adapters) await adapter.start();
  janitor.start();
  // Last, after any route an adapter adds when it starts.
  app.use(notFoundHandler());

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.server.port, config.server.host, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const url = listenUrl(config, port);
  log.info({ port, url, channels: adapters.map((a) => a.channel) }, `gateway listening at ${url}`);

  return {
    app,
    server,
    port,
    conversations,
    queue,
    queueWait: janitor,
    knowledge,
    redis,
    metrics,
    adapters,
    support,
    close: async () => {
      await janitor.stop();
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await support.close();
      await queues.close();
      await hub.close();
      if (ownsKnowledge) await knowledge.close();
      await queue.close().catch(() => undefined);
      for (const c of [redis, subscriber, queueConnection, deliveryConnection]) c.disconnect();
    },
  };
}

/** The URL to open: PUBLIC_URL, else this machine at the bound port (a wildcard address shown as localhost). */
function listenUrl(config: Config, port: number): string {
  const host = config.server.host;
  const name = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return config.server.publicUrl ?? `http://${name}:${port}`;
}
