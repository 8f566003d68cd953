import { type Activity, CloudAdapter, type InvokeResponse, type TurnContext } from "botbuilder";
import type { AuthenticateRequestResult, BotFrameworkAuthentication } from "botframework-connector";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Config } from "../../src/config.ts";
import type { Channel, ConversationRef } from "../../src/conversation/inbound-message.ts";
import { asCodedError, type CodedError, ErrorCode, errorBody, GatewayError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { AdapterContext, ChannelAdapter, ChannelRedis } from "../types.ts";
import { checkActivityShape, serviceUrlAllowed, tenantOf } from "./inbound-activity.ts";
import { TeamsAnswers } from "./teams-answers.ts";
import { createTeamsAuthentication, jwtValidationEnabled, type TeamsAuthOptions } from "./teams-auth.ts";
import { TeamsConnector } from "./teams-connector.ts";
import { serviceUrlKey, TeamsHandoffDestination } from "./teams-handoff-destination.ts";
import { TeamsPosts } from "./teams-posts.ts";
import { referenceKey, TeamsTurnHandler } from "./teams-turn-handler.ts";

/** Exposes the authenticated overload of processActivity: the adapter authenticates first, itself. */
class GatewayCloudAdapter extends CloudAdapter {
  run(auth: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(auth, activity, logic);
  }
}

export interface TeamsAdapterOptions {
  /** Token validation and outbound credentials (tests point these at local fakes). */
  auth?: TeamsAuthOptions;
  /** Shortest gap between streaming updates. @defaultValue 1000 */
  streamIntervalMs?: number;
  /** How often "typing" is renewed while a message waits for a worker. @defaultValue 3000 */
  typingIntervalMs?: number;
  /** Answers one gateway delivers at once. @defaultValue 200 */
  answerConcurrency?: number;
  /** Route of the messaging endpoint. @defaultValue "/api/messages" */
  path?: string;
}

/**
 * Microsoft Teams through botbuilder's CloudAdapter: POST /api/messages verifies the Bot Framework JWT,
 * refuses replies to servers off the allow-list, enqueues the message, stores its answer as owed in the
 * Teams answers queue, acknowledges, and the queue delivers the answer proactively (streamed in personal
 * chats) with retries, take-over by another gateway and dead letters.
 */
export class TeamsAdapter implements ChannelAdapter {
  readonly channel: Channel = "teams";
  readonly deliveryQueues = ["teams-answers", "teams-posts"] as const;
  private ctx: AdapterContext | undefined;
  private logger: Logger | undefined;
  private cloud: GatewayCloudAdapter | undefined;
  private auth: BotFrameworkAuthentication | undefined;
  private answers: TeamsAnswers | undefined;
  private posts: TeamsPosts | undefined;
  private handler: TeamsTurnHandler | undefined;
  private stopping = false;
  private validating = false;

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
    const connector = new TeamsConnector(this.cloud, teams.appId ?? "");
    const posts = new TeamsPosts(context.queues, connector);
    this.posts = posts;
    // Shared feedback and handoff services, when the gateway provides them.
    const { feedback, handoff } = context;
    this.answers = new TeamsAnswers({
      queues: context.queues,
      connector,
      conversations: context.conversations,
      redis: context.redis,
      keys: context.keys,
      logger,
      controls: () => ({
        handoff: (handoff?.destinations.length ?? 0) > 0,
        feedback: feedback !== undefined,
      }),
      keepSeconds: limits.dedupeTtlSeconds,
      followTimeoutMs: limits.answerTimeoutMs + 60_000,
      ...(this.options.streamIntervalMs === undefined
        ? {}
        : { streamIntervalMs: this.options.streamIntervalMs }),
      ...(this.options.typingIntervalMs === undefined
        ? {}
        : { typingIntervalMs: this.options.typingIntervalMs }),
      ...(this.options.answerConcurrency ? { concurrency: this.options.answerConcurrency } : {}),
    });
    if (handoff && teams.handoffConversation) {
      handoff.register(
        new TeamsHandoffDestination(posts, context.redis, context.keys, teams.handoffConversation),
      );
    }
    const answers = this.answers;
    this.handler = new TeamsTurnHandler({
      teams,
      conversations: context.conversations,
      redis: context.redis,
      keys: context.keys,
      logger,
      accept: ({ messageId, reference, scope, userId }) =>
        answers.accept({
          messageId,
          reference: reference as Record<string, unknown>,
          scope,
          about: { channel: "teams", userId },
        }),
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
    this.answers?.queue.start();
    this.posts?.queue.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const grace = this.ctx?.limits.shutdownGraceMs ?? 0;
    await Promise.all([this.answers?.queue.close(grace), this.posts?.queue.close(grace)]);
  }

  readiness(): Record<string, unknown> {
    return {
      jwtValidation: this.validating ? "on" : "OFF (no MICROSOFT_APP_ID: local development only)",
      // As of the last /metrics scrape.
      answers: this.answers?.queue.counts,
      posts: this.posts?.queue.counts,
    };
  }

  /** Waits until no answer or post is waiting or being sent (tests and benchmarks use it). */
  async idle(): Promise<void> {
    await Promise.all([this.answers?.queue.idle(), this.posts?.queue.idle()]);
  }

  /**
   * A person's reply (admin API) into a handed-off Teams conversation, proactively through the posts
   * queue, to the conversation reference kept when its user last wrote.
   * @throws GatewayError not_found when the conversation's reference is no longer kept.
   */
  async replyAsPerson(ref: ConversationRef, text: string): Promise<void> {
    const ctx = this.ctx;
    const posts = this.posts;
    if (!ctx || !posts) throw new Error("The Teams channel is not initialised.");
    const raw = await ctx.redis.get(referenceKey(ctx.keys, ref.conversationKey));
    if (raw === null) {
      throw new GatewayError(
        ErrorCode.NotFound,
        "This Teams conversation is no longer known to the bot (no message for 30 days); answer in Teams.",
      );
    }
    await posts.post({
      reference: JSON.parse(raw) as Record<string, unknown>,
      activity: { type: "message", text, textFormat: "plain" },
    });
  }

  /** The conversation reference kept for replies (privacy erasure). */
  async forget(ref: ConversationRef, store: { redis: ChannelRedis; keys: ChannelKeys }): Promise<number> {
    return store.redis.del(referenceKey(store.keys, ref.conversationKey));
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
      // An internal error's own message (a stack's wording, a library's) stays in the log.
      sendError(
        res,
        coded.status >= 500
          ? new GatewayError(
              coded.code,
              "The activity could not be processed; Teams will deliver it again.",
              coded.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: coded.retryAfterSeconds },
            )
          : coded,
      );
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
}

function sendError(res: Response, error: CodedError): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(error.retryAfterSeconds));
  res.status(error.status).json(errorBody(error));
}
