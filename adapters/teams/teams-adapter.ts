import {
  type Activity,
  CloudAdapter,
  type ConversationReference,
  type InvokeResponse,
  type TurnContext,
} from "botbuilder";
import type { AuthenticateRequestResult, BotFrameworkAuthentication } from "botframework-connector";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Config } from "../../src/config.ts";
import type { Channel } from "../../src/conversation/inbound-message.ts";
import { asCodedError, type CodedError, ErrorCode, errorBody, GatewayError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { AdapterContext, ChannelAdapter } from "../types.ts";
import { checkActivityShape, serviceUrlAllowed, tenantOf } from "./inbound-activity.ts";
import { createTeamsAuthentication, jwtValidationEnabled, type TeamsAuthOptions } from "./teams-auth.ts";
import { backoffDelay, type DeliveryRetryOptions, TeamsDelivery } from "./teams-delivery.ts";
import { serviceUrlKey, TeamsHandoffDestination } from "./teams-handoff-destination.ts";
import { TeamsOutbox } from "./teams-outbox.ts";
import { TeamsPendingAnswers } from "./teams-pending-answers.ts";
import { TeamsReplySink } from "./teams-reply-sink.ts";
import { type FollowRequest, guarded, sentKey, TeamsTurnHandler } from "./teams-turn-handler.ts";

/** Exposes the authenticated overload of processActivity: the adapter authenticates first, itself. */
class GatewayCloudAdapter extends CloudAdapter {
  run(auth: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(auth, activity, logic);
  }
}

export interface TeamsAdapterOptions {
  /** Token validation and outbound credentials (tests point these at local fakes). */
  auth?: TeamsAuthOptions;
  retry?: DeliveryRetryOptions;
  /** Shortest gap between streaming updates. @defaultValue 1000 */
  streamIntervalMs?: number;
  /** How often "typing" is renewed while a message waits for a worker. @defaultValue 3000 */
  typingIntervalMs?: number;
  /** How often undelivered answers are retried. @defaultValue 5000 */
  outboxIntervalMs?: number;
  /** Outbox attempts before an answer goes to the dead list. @defaultValue 50 */
  outboxMaxAttempts?: number;
  /**
   * How long a gateway's claim on an answer it follows lasts; after that another gateway adopts it.
   * @defaultValue ANSWER_TIMEOUT_MS + 120 s
   */
  followClaimSeconds?: number;
  /** Route of the messaging endpoint. @defaultValue "/api/messages" */
  path?: string;
}

/**
 * Microsoft Teams through botbuilder's CloudAdapter: POST /api/messages verifies the Bot Framework JWT,
 * refuses replies to servers off the allow-list, enqueues the message, acknowledges, and delivers the
 * answer proactively (streamed in personal chats), keeping undeliverable answers in a Redis outbox.
 */
export class TeamsAdapter implements ChannelAdapter {
  readonly channel: Channel = "teams";
  private ctx: AdapterContext | undefined;
  private logger: Logger | undefined;
  private cloud: GatewayCloudAdapter | undefined;
  private auth: BotFrameworkAuthentication | undefined;
  private delivery: TeamsDelivery | undefined;
  private outbox: TeamsOutbox | undefined;
  private pending: TeamsPendingAnswers | undefined;
  private handler: TeamsTurnHandler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private validating = false;
  private outboxSize = 0;

  constructor(
    private readonly teams: Config["teams"],
    private readonly options: TeamsAdapterOptions = {},
  ) {}

  async init(context: AdapterContext): Promise<void> {
    const { teams } = this;
    const { limits } = context;
    this.ctx = context;
    const logger = context.logger.child({ component: "teams" });
    this.logger = logger;
    this.validating = jwtValidationEnabled(teams);
    if (!this.validating) {
      logger.warn(
        "TEAMS JWT VALIDATION IS OFF: MICROSOFT_APP_ID is not set, so anyone who can reach /api/messages can post " +
          "activities as Teams. Use this for local development only; set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD " +
          "(and MICROSOFT_APP_TENANT_ID for a single-tenant bot) in production.",
      );
    }
    this.auth = createTeamsAuthentication(teams, this.options.auth);
    this.cloud = new GatewayCloudAdapter(this.auth);
    this.delivery = new TeamsDelivery(this.cloud, teams.appId ?? "", logger, this.options.retry);
    this.outbox = new TeamsOutbox(context.redis, context.keys);
    const claimSeconds = this.options.followClaimSeconds ?? Math.ceil(limits.answerTimeoutMs / 1000) + 120;
    this.pending = new TeamsPendingAnswers(context.redis, context.keys, claimSeconds);
    // Shared feedback and handoff services, when the gateway provides them.
    const { feedback, handoff } = context;
    if (handoff && teams.handoffConversation) {
      handoff.register(
        new TeamsHandoffDestination(this.delivery, context.redis, context.keys, teams.handoffConversation),
      );
    }
    this.handler = new TeamsTurnHandler({
      teams,
      conversations: context.conversations,
      redis: context.redis,
      keys: context.keys,
      logger,
      pending: this.pending,
      follow: (request) => this.startFollowing(request),
      feedback,
      handoff,
    });
    const path = this.options.path ?? "/api/messages";
    context.routes.post(path, express.json({ limit: "1mb" }), (req, res) => {
      void this.handle(req, res);
    });
    // Body-parser errors (malformed JSON, oversized bodies) arrive here, before the route runs.
    context.routes.use(path, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
      const e = error as { type?: string; status?: number };
      if (e?.type === "entity.parse.failed") {
        return sendError(res, new GatewayError(ErrorCode.MalformedJson, "The activity is not valid JSON."));
      }
      if (e?.type === "entity.too.large") {
        return sendError(
          res,
          new GatewayError(ErrorCode.PayloadTooLarge, "The activity is larger than 1 MB."),
        );
      }
      next(error);
    });
  }

  async start(): Promise<void> {
    const interval = this.options.outboxIntervalMs ?? 5000;
    this.timer = setInterval(() => {
      if (this.draining) return;
      this.draining = this.drainOutbox().finally(() => {
        this.draining = undefined;
      });
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
    await Promise.allSettled([...this.inFlight]);
  }

  readiness(): Record<string, unknown> {
    return {
      jwtValidation: this.validating ? "on" : "OFF (no MICROSOFT_APP_ID: local development only)",
      undeliveredAnswers: this.outboxSize,
    };
  }

  /** Waits for every answer being delivered right now (tests and benchmarks use it). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async handle(req: Request, res: Response): Promise<void> {
    const ctx = this.ctx;
    const cloud = this.cloud;
    const auth = this.auth;
    const handler = this.handler;
    if (!ctx || !cloud || !auth || !handler || this.stopping) {
      sendError(res, new GatewayError(ErrorCode.Busy, "The gateway is shutting down; Teams will redeliver."));
      return;
    }
    let activity: Activity;
    try {
      activity = checkActivityShape(req.body);
    } catch (error) {
      ctx.metrics.rejected(asCodedError(error).code);
      sendError(res, asCodedError(error));
      return;
    }
    let authResult: AuthenticateRequestResult;
    try {
      authResult = await auth.authenticateRequest(activity, String(req.headers.authorization ?? ""));
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      this.logger?.warn(
        { conversationId: activity.conversation.id, status },
        "teams request failed authentication",
      );
      ctx.metrics.rejected(ErrorCode.Unauthorized);
      sendError(
        res,
        status !== undefined && status >= 500
          ? new GatewayError(ErrorCode.Internal, "Bot Framework signing keys could not be loaded; retry.")
          : new GatewayError(ErrorCode.Unauthorized, "The Bot Framework token is missing or invalid."),
      );
      return;
    }
    const refusal = this.refusal(activity);
    if (refusal) {
      ctx.metrics.rejected(refusal.code);
      sendError(res, refusal);
      return;
    }
    try {
      if (this.teams.handoffConversation) {
        await ctx.redis.set(serviceUrlKey(ctx.keys), activity.serviceUrl);
      }
      const invoke: InvokeResponse | undefined = await cloud.run(authResult, activity, handler.handle);
      res.status(invoke?.status ?? 200);
      if (invoke?.body === undefined) res.end();
      else res.json(invoke.body);
    } catch (error) {
      const coded = asCodedError(error);
      this.logger?.error({ err: coded, conversationId: activity.conversation.id }, "teams activity failed");
      sendError(res, coded);
    }
  }

  /** Allow-lists, checked after authentication so that they reveal nothing to strangers. */
  private refusal(activity: Activity): CodedError | undefined {
    const teams = this.teams;
    if (!serviceUrlAllowed(activity.serviceUrl, teams.serviceUrlAllowlist)) {
      return new GatewayError(
        ErrorCode.Forbidden,
        "The activity's serviceUrl is not on TEAMS_SERVICE_URL_ALLOWLIST, so the bot will not send replies there.",
      );
    }
    if (teams.allowedTenants.length > 0) {
      const tenant = tenantOf(activity);
      if (tenant === undefined || !teams.allowedTenants.includes(tenant)) {
        return new GatewayError(ErrorCode.Forbidden, "This tenant is not on TEAMS_ALLOWED_TENANTS.");
      }
    }
    return undefined;
  }

  private startFollowing(request: FollowRequest): void {
    const task = this.follow(request).catch(async (err) => {
      this.logger?.error(
        { err, conversationId: request.reference.conversation?.id, messageId: request.messageId },
        "teams answer could not be followed",
      );
      // An unknown message will stay unknown; anything else (Redis down) is retried by adoption later.
      if (asCodedError(err).code === ErrorCode.NotFound) await this.pending?.drop(request.messageId);
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async follow({ messageId, reference, scope }: FollowRequest): Promise<void> {
    const ctx = this.ctx;
    const delivery = this.delivery;
    const logger = this.logger;
    if (!ctx || !delivery || !logger) return;
    const conversationId = reference.conversation?.id ?? "";
    const sink = new TeamsReplySink({
      delivery,
      reference,
      scope,
      messageId,
      logger,
      handoff: (ctx.handoff?.destinations.length ?? 0) > 0,
      feedback: ctx.feedback !== undefined,
      ...(this.options.streamIntervalMs === undefined
        ? {}
        : { streamIntervalMs: this.options.streamIntervalMs }),
      ...(this.options.typingIntervalMs === undefined
        ? {}
        : { typingIntervalMs: this.options.typingIntervalMs }),
      keep: (id, activity, error) => this.keep(id, reference, activity, error),
      onDelivered: async (activityIds) => {
        const ttl = ctx.limits.dedupeTtlSeconds;
        const multi = ctx.redis.multi();
        for (const activityId of activityIds)
          multi.set(sentKey(ctx.keys, conversationId, activityId), messageId, "EX", ttl);
        await multi.exec();
        await this.pending?.settle(messageId, ttl);
      },
    });
    await sink.startTyping();
    try {
      await ctx.conversations.follow(messageId, guarded(sink, logger, conversationId));
    } finally {
      sink.stopTyping();
    }
  }

  private async keep(
    messageId: string,
    reference: Partial<ConversationReference>,
    activity: Partial<Activity>,
    error: unknown,
  ): Promise<void> {
    const outbox = this.outbox;
    if (!outbox) return;
    this.logger?.error(
      { err: error, conversationId: reference.conversation?.id, messageId },
      "teams answer not delivered; kept in the outbox for retry",
    );
    await outbox.add({ messageId, reference, activity }, this.options.outboxIntervalMs ?? 5000);
    // From here the outbox owns the answer; it is no longer pending a follower.
    await this.pending?.settle(messageId, this.ctx?.limits.dedupeTtlSeconds ?? 86_400);
    this.outboxSize = await outbox.size();
  }

  /**
   * One pass: answers whose follower died are adopted and followed again; due outbox entries are sent
   * again, and those failing too often go to the dead list.
   */
  private async drainOutbox(): Promise<void> {
    const outbox = this.outbox;
    const delivery = this.delivery;
    if (!outbox || !delivery || this.stopping) return;
    const maxAttempts = this.options.outboxMaxAttempts ?? 50;
    try {
      const maxAgeMs = (this.ctx?.limits.dedupeTtlSeconds ?? 86_400) * 1000;
      for (const orphan of (await this.pending?.adoptOrphans(maxAgeMs)) ?? []) {
        this.logger?.warn(
          { conversationId: orphan.reference.conversation?.id, messageId: orphan.messageId },
          "teams answer had lost its follower; following it again",
        );
        this.startFollowing(orphan);
      }
      for (const entry of await outbox.claimDue()) {
        try {
          await delivery.send(entry.reference, entry.activity);
          await outbox.done(entry);
          this.logger?.info(
            {
              conversationId: entry.reference.conversation?.id,
              messageId: entry.messageId,
              attempts: entry.attempts + 1,
            },
            "teams answer delivered from the outbox",
          );
        } catch (err) {
          if (entry.attempts + 1 >= maxAttempts) {
            await outbox.bury(entry);
            this.logger?.error(
              { err, conversationId: entry.reference.conversation?.id, messageId: entry.messageId },
              "teams answer given up after repeated failures; moved to the outbox dead list",
            );
          } else {
            await outbox.retryLater(entry, backoffDelay(entry.attempts + 1, 5000, 15 * 60_000));
          }
        }
      }
      this.outboxSize = await outbox.size();
    } catch (err) {
      this.logger?.error({ err }, "teams outbox pass failed");
    }
  }
}

function sendError(res: Response, error: CodedError): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(error.retryAfterSeconds));
  res.status(error.status).json(errorBody(error));
}
