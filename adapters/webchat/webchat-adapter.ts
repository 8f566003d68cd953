import type { Request } from "express";
import type { AdapterContext, ChannelAdapter } from "../types.ts";
import { SessionTokens } from "./session-token.ts";
import { webchatRoutes } from "./webchat-routes.ts";
import { WebchatStore } from "./webchat-store.ts";

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
    app.use(
      "/webchat/v1",
      webchatRoutes({
        conversations,
        store,
        tokens,
        logger: logger.child({ component: "webchat" }),
        bodyLimit,
        tenantOf: (_req: Request) => "web",
      }),
    );
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
