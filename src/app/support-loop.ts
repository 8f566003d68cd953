import { randomUUID } from "node:crypto";
import type { Express } from "express";
import type { Redis } from "ioredis";
import type { ChannelAdapter } from "../../adapters/types.ts";
import { adminRoutes, type HumanReplier } from "../admin/admin-routes.ts";
import { AdminSettings } from "../admin/admin-settings.ts";
import type { ConversationManager } from "../answering/conversation-manager.ts";
import type { Config } from "../config.ts";
import type { ContextStore } from "../conversation/context-store.ts";
import type { FeedbackService } from "../conversation/feedback.ts";
import type { Channel } from "../conversation/inbound-message.ts";
import type { DeliveryQueues } from "../delivery/delivery-queues.ts";
import { ConfigError } from "../errors.ts";
import { SupportGate } from "../handoff/handoff-gate.ts";
import type { HandoffService } from "../handoff/handoff-service.ts";
import { RedisHandoffStates } from "../handoff/handoff-state.ts";
import { WebhookDeliveries } from "../handoff/webhook-delivery.ts";
import { InsightsRecorder } from "../insights/insights-recorder.ts";
import { type InsightEvent, InsightsStore } from "../insights/insights-store.ts";
import { Redactor } from "../insights/redaction.ts";
import { buildReport } from "../insights/support-report.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { startRetentionSweep } from "../privacy/retention-sweeper.ts";
import { UserDataEraser } from "../privacy/user-data-eraser.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { channelForgetter } from "./channel-adapters.ts";

/** The window of the report gauges on /metrics. */
const METRICS_WINDOW_MS = 7 * 86_400_000;
/** Scrapes closer together than this reuse the last computation (the streams are read whole). */
const METRICS_REFRESH_MS = 15_000;

export interface SupportLoopOptions {
  config: Config;
  redis: Redis;
  keys: Keyspace;
  knowledge: KnowledgeBase;
  metrics: Metrics;
  logger: Logger;
  /** The gateway's delivery queues (the webhook destination's retries and dead letters). */
  queues: DeliveryQueues;
}

export interface AttachOptions {
  app: Express;
  conversations: ConversationManager;
  handoff: HandoffService;
  feedback: FeedbackService;
  /** The served channels (what each keeps of its own is erased with a user's data). */
  adapters: ChannelAdapter[];
  context: ContextStore;
}

/**
 * The support loop, composed once per gateway: handoff state and intents in front of the bot (the gate),
 * the signed webhook destination, analytics and curator gaps, report gauges, the admin API, retention.
 * Created before the conversation manager (which takes the gate); `attach` wires the shared services.
 */
export function createSupportLoop({
  config,
  redis,
  keys,
  knowledge,
  metrics,
  logger,
  queues,
}: SupportLoopOptions) {
  const retentionSeconds = config.admin.retentionDays * 86_400;
  const store = new InsightsStore({ redis, keys, retentionMs: retentionSeconds * 1000 });
  const settings = new AdminSettings(redis, keys, { handoffMessage: config.handoff.message });
  let handoff: HandoffService | undefined;
  let conversations: ConversationManager | undefined;
  const recorder = new InsightsRecorder({
    store,
    redactor: new Redactor(config.insights.redactPatterns),
    search: (q, limit) => knowledge.search(q, limit),
    turns: async (ref) => (conversations ? conversations.turns(ref) : []),
    metrics,
    logger,
  });

  let webhook: WebhookDeliveries | undefined;
  if (config.handoff.webhookUrl) {
    if (!config.handoff.webhookSecret || config.handoff.webhookSecret.length < 16) {
      throw new ConfigError(
        "Invalid configuration: HANDOFF_WEBHOOK_SECRET: set a secret of 16+ characters to sign handoff webhooks",
      );
    }
    webhook = new WebhookDeliveries({
      url: config.handoff.webhookUrl,
      secret: config.handoff.webhookSecret,
      queues,
      attempts: config.handoff.webhookAttempts,
      backoffMs: config.handoff.webhookBackoffMs,
      timeoutMs: config.handoff.webhookTimeoutMs,
      logger,
    });
  }

  const states = new RedisHandoffStates({
    redis,
    keys,
    ttlSeconds: retentionSeconds,
    // Ticket systems close or reassign their ticket when the conversation is back with the bot.
    ...(webhook
      ? {
          onReleased: (handoffId: string, by: string) =>
            (webhook as WebhookDeliveries)
              .enqueue({ v: 1, type: "handoff.released", handoffId, data: { at: Date.now(), by } })
              .catch((error: unknown) =>
                logger.warn({ err: (error as Error).message }, "handoff.released not queued"),
              ),
        }
      : {}),
  });
  const gate = new SupportGate({
    states,
    insights: recorder,
    handoff: () => handoff,
    handoffMessage: async () => (await settings.get()).handoffMessage,
    ...(webhook
      ? {
          forwardFollowUp: (handoffId: string, followUp: { at: number; userId: string; text: string }) =>
            (webhook as WebhookDeliveries).enqueue({
              v: 1,
              type: "handoff.message",
              handoffId,
              data: followUp,
            }),
        }
      : {}),
    logger,
  });

  let stopSweep: (() => void) | undefined;
  let lastScrape = 0;
  let cursor: string | undefined;
  const windowEvents: InsightEvent[] = [];

  return {
    gate,
    states,
    store,
    recorder,
    settings,
    webhook,

    /** Registers the webhook destination and listeners on the shared services; mounts /admin/v1. */
    attach(o: AttachOptions): void {
      handoff = o.handoff;
      conversations = o.conversations;
      if (webhook) {
        o.handoff.register(webhook);
        webhook.start();
      }
      o.handoff.onHandoff((record) => recorder.handoff(record));
      o.feedback.onRecorded((input, feedback) => recorder.feedback(input, feedback));
      if (config.admin.tokens.length > 0) {
        const manager = o.conversations;
        const repliers: Partial<Record<Channel, HumanReplier>> = {
          // Web chat shows its conversation's log over SSE, so a relayed reply appears like an answer.
          webchat: async (ref, text) => {
            await manager.relay(ref, text, randomUUID());
          },
        };
        // Slack and Teams post the reply into the handed-off conversation through their delivery queues.
        for (const adapter of o.adapters) {
          const replyAsPerson = adapter.replyAsPerson?.bind(adapter);
          if (replyAsPerson) repliers[adapter.channel] = replyAsPerson;
        }
        o.app.use(
          "/admin/v1",
          adminRoutes({
            tokens: config.admin.tokens,
            insights: store,
            knowledge,
            states,
            handoff: o.handoff,
            settings,
            eraser: new UserDataEraser({
              redis,
              keys,
              insights: store,
              context: o.context,
              deliveries: queues.queues.map((q) => q.queue),
              forget: channelForgetter(o.adapters, redis, keys),
            }),
            repliers,
            logger,
          }),
        );
      }
      stopSweep = startRetentionSweep(store, logger);
    },

    /**
     * Recomputes the report gauges (called before a /metrics scrape). The window's events are kept in
     * memory and followed incrementally (only entries newer than the last read are fetched), so a scrape
     * costs the new events plus one pass over the window, not a re-read of a week of Redis entries.
     * User ids are dropped from the copy: the figures do not need them.
     */
    async refreshMetrics(force = false): Promise<void> {
      if (!force && Date.now() - lastScrape < METRICS_REFRESH_MS) return;
      lastScrape = Date.now();
      const since = Date.now() - METRICS_WINDOW_MS;
      const fresh = await store.eventsFrom(cursor ? `(${cursor}` : `${since}-0`);
      if (fresh.lastId) cursor = fresh.lastId;
      for (const e of fresh.events) windowEvents.push("userId" in e ? { ...e, userId: "" } : e);
      const firstKept = windowEvents.findIndex((e) => e.at >= since);
      if (firstKept > 0) windowEvents.splice(0, firstKept);
      else if (firstKept < 0) windowEvents.length = 0;
      const report = buildReport(windowEvents, since, Date.now());
      const g = metrics.report;
      for (const gauge of [g.questions, g.deflection, g.thumbsUp, g.handoffs, g.ttft]) gauge.reset();
      for (const row of [...report.channels, report.total]) {
        const labels = { channel: row.channel };
        g.questions.set(labels, row.questions);
        g.handoffs.set(labels, row.handoffs);
        if (row.deflectionRate !== null) g.deflection.set(labels, row.deflectionRate);
        if (row.thumbsUpRate !== null) g.thumbsUp.set(labels, row.thumbsUpRate);
        if (row.medianTtftMs !== null) g.ttft.set(labels, row.medianTtftMs / 1000);
      }
    },

    async close(): Promise<void> {
      stopSweep?.();
      await webhook?.close(config.queue.shutdownGraceMs);
    },
  };
}

export type SupportLoop = ReturnType<typeof createSupportLoop>;
