import { RateLimiter } from "../../src/conversation/rate-limiter.ts";
import type { AdapterContext, ChannelAdapter } from "../types.ts";
import { OriginPolicy, sitesFromConfig } from "./origin-policy.ts";
import { SessionTokens } from "./session-token.ts";
import { webchatActionsRoutes } from "./webchat-actions-routes.ts";
import { WebchatGuard } from "./webchat-guard.ts";
import { webchatRoutes } from "./webchat-routes.ts";
import { WebchatStore } from "./webchat-store.ts";
import { loadWidget, widgetRoutes } from "./widget-routes.ts";

/** The web chat channel: a JSON + SSE API under /webchat/v1, used by the embeddable widget. */
export class WebchatAdapter implements ChannelAdapter {
  readonly channel = "webchat" as const;

  async init(context: AdapterContext): Promise<void> {
    const { config, redis, app, conversations, logger } = context;
    const keys = (...parts: string[]) => [config.redis.prefix, ...parts].join(":");
    const store = new WebchatStore(redis, keys, config.webchat.tokenTtlSeconds);
    const tokens = new SessionTokens(
      await store.sharedSecret(config.webchat.tokenSecret),
      config.webchat.tokenTtlSeconds,
    );
    // JSON escaping can grow text up to 6x; the body limit leaves room, the character limit is exact.
    const bodyLimit = `${Math.max(16, Math.ceil((config.conversation.maxMessageChars * 6 + 1024) / 1024))}kb`;
    // Origin allow-list + CORS, per-IP limit, identity check and site binding, before every API route.
    const guard = new WebchatGuard({
      policy: new OriginPolicy(sitesFromConfig(config.webchat), config.server.publicUrl),
      store,
      rateLimiter: new RateLimiter(redis, keys),
      ipPerMinute: config.rateLimit.ipPerMinute,
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
    app.use("/webchat", widgetRoutes(await loadWidget(logger.child({ component: "webchat-widget" }))));
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
