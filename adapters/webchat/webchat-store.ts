import { randomBytes } from "node:crypto";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";

export interface WebchatConversation {
  id: string;
  tenant: string;
  userId: string;
  createdAt: number;
  /** When its lifetime was last renewed (ms since epoch). */
  touchedAt: number;
}

/** Web-chat conversations known to the gateway (Redis hashes with the session's lifetime). */
export class WebchatStore {
  readonly #redis: ChannelRedis;
  readonly #keys: ChannelKeys;
  readonly #ttl: number;

  constructor(redis: ChannelRedis, keys: ChannelKeys, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttl = ttlSeconds;
  }

  async create(tenant: string, userId?: string): Promise<WebchatConversation> {
    const id = `c${randomBytes(16).toString("hex")}`;
    const now = Date.now();
    const conversation = { id, tenant, userId: userId ?? `anon-${id}`, createdAt: now, touchedAt: now };
    const key = this.#keys.key("conv", id);
    await this.#redis
      .multi()
      .hset(key, { tenant, userId: conversation.userId, createdAt: conversation.createdAt })
      .expire(key, this.#ttl)
      .exec();
    return conversation;
  }

  async get(id: string): Promise<WebchatConversation | undefined> {
    if (!/^c[0-9a-f]{32}$/.test(id)) return undefined;
    const data = await this.#redis.hgetall(this.#keys.key("conv", id));
    if (!data.tenant || !data.userId) return undefined;
    const createdAt = Number(data.createdAt);
    return {
      id,
      tenant: data.tenant,
      userId: data.userId,
      createdAt,
      touchedAt: Number(data.touchedAt ?? createdAt),
    };
  }

  /**
   * Keeps an active conversation alive as long as its token would be. Renewed at most every tenth of its
   * lifetime (a chat sends many messages a minute; each need not write).
   */
  async touch(conversation: WebchatConversation, now = Date.now()): Promise<void> {
    if (now - conversation.touchedAt < (this.#ttl * 1000) / 10) return;
    const key = this.#keys.key("conv", conversation.id);
    await this.#redis.multi().hset(key, "touchedAt", now).expire(key, this.#ttl).exec();
  }

  /**
   * The secret that signs session tokens: WEBCHAT_TOKEN_SECRET when set, otherwise one generated once and
   * kept in Redis, so every gateway on the same Redis accepts every other gateway's tokens.
   */
  async sharedSecret(configured: string | undefined): Promise<string> {
    if (configured) return configured;
    const key = this.#keys.key("secret");
    await this.#redis.set(key, randomBytes(32).toString("base64url"), "NX");
    return (await this.#redis.get(key)) as string;
  }

  /** Forgets a conversation's session (privacy erasure). */
  async forget(id: string): Promise<number> {
    return this.#redis.del(this.#keys.key("conv", id));
  }
}
