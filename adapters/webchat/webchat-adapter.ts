import type { Config } from "../../src/config.ts";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { AdapterContext, ChannelAdapter, ChannelRedis } from "../types.ts";
import { OriginPolicy, sitesFromConfig } from "./origin-policy.ts";
import { SessionTokens } from "./session-token.ts";
import { webchatActionsRoutes } from "./webchat-actions-routes.ts";
import { webchatConfigRoute } from "./webchat-config-route.ts";
import { WebchatGuard } from "./webchat-guard.ts";
import { webchatRoutes } from "./webchat-routes.ts";
import { WebchatStore } from "./webchat-store.ts";
import { loadWidget, widgetRoutes } from "./widget-routes.ts";

/** The web chat channel: a JSON + SSE API under /webchat/v1, used by the embeddable widget. */
export interface WebchatAdapterOptions {
  webchat: Config["webchat"];
  /** The gateway's public base URL (PUBLIC_URL), when set. */
  publicUrl?: string;
  /** Web chat requests per client IP per minute (0: no limit). */
  ipPerMinute: number;
}

export class WebchatAdapter implements ChannelAdapter {
  readonly channel = "webchat" as const;
  readonly #options: WebchatAdapterOptions;

  constructor(options: WebchatAdapterOptions) {
    this.#options = options;
  }

  async init(context: AdapterContext): Promise<void> {
    const { redis, keys, routes: app, conversations, logger, limits } = context;
    const { webchat, publicUrl, ipPerMinute } = this.#options;
    const store = new WebchatStore(redis, keys, webchat.tokenTtlSeconds);
    const tokens = new SessionTokens(await store.sharedSecret(webchat.tokenSecret), webchat.tokenTtlSeconds);
    // JSON escaping can grow text up to 6x; the body limit leaves room, the character limit is exact.
    const bodyLimit = `${Math.max(16, Math.ceil((limits.maxMessageChars * 6 + 1024) / 1024))}kb`;
    const policy = new OriginPolicy(sitesFromConfig(webchat), publicUrl);
    // The widget's first question (may this page use the chat?) is answered for any page, ahead of the guard.
    app.use("/webchat/v1", webchatConfigRoute(policy, logger.child({ component: "webchat-guard" })));
    // Origin allow-list + CORS, per-IP limit, identity check and site binding, before every API route.
    const guard = new WebchatGuard({
      policy,
      store,
      rateLimiter: context.rateLimiter,
      ipPerMinute,
      logger: logger.child({ component: "webchat-guard" }),
    });
    app.use("/webchat/v1", guard.router);
    app.use(
      "/webchat/v1",
      webchatRoutes({
        conversations,
        store,
        tokens,
        logger: logger.child({ component: "webchat" }),
        bodyLimit,
        tenantOf: guard.siteOf,
        conversationOf: guard.conversationOf,
        userOf: guard.userOf,
      }),
    );
    app.use(
      "/webchat/v1",
      webchatActionsRoutes({
        store,
        tokens,
        ...(context.feedback ? { feedback: context.feedback } : {}),
        ...(context.handoff ? { handoff: context.handoff } : {}),
      }),
    );
    const widget = await loadWidget(logger.child({ component: "webchat-widget" }));
    app.use("/webchat", widgetRoutes({ widget, publicUrl }));
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async forget(
    ref: ConversationRef,
    { redis, keys }: { redis: ChannelRedis; keys: ChannelKeys },
  ): Promise<number> {
    return new WebchatStore(redis, keys, this.#options.webchat.tokenTtlSeconds).forget(ref.conversationKey);
  }
}
