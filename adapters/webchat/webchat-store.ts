import { randomBytes } from "node:crypto";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";

export interface WebchatConversation {
  id: string;
  tenant: string;
  userId: string;
  createdAt: number;
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
    const conversation = { id, tenant, userId: userId ?? `anon-${id}`, createdAt: Date.now() };
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
    return { id, tenant: data.tenant, userId: data.userId, createdAt: Number(data.createdAt) };
  }

  /** Keeps an active conversation alive as long as its token would be. */
  async touch(id: string): Promise<void> {
    await this.#redis.expire(this.#keys.key("conv", id), this.#ttl);
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
