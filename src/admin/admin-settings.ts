import type { Redis } from "ioredis";
import { z } from "zod";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Keyspace } from "../redis/keyspace.ts";

/** Settings an admin may change at run time; every gateway reads them from Redis (cached briefly). */
export const SettingsSchema = z
  .object({
    /** What a user is told once a person has been asked. */
    handoffMessage: z.string().trim().min(1).max(1000),
  })
  .strict();
export type Settings = z.infer<typeof SettingsSchema>;

/** How long a gateway trusts its copy; an admin change reaches every gateway within this. */
const CACHE_MS = 2000;

export class AdminSettings {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #defaults: Settings;
  #cache: { at: number; value: Settings } | undefined;

  constructor(redis: Redis, keys: Keyspace, defaults: Settings) {
    this.#redis = redis;
    this.#key = keys.settings();
    this.#defaults = defaults;
  }

  async get(): Promise<Settings> {
    if (this.#cache && Date.now() - this.#cache.at < CACHE_MS) return this.#cache.value;
    const stored = await this.#redis.hgetall(this.#key);
    const value = { ...this.#defaults, ...SettingsSchema.partial().parse(stored) };
    this.#cache = { at: Date.now(), value };
    return value;
  }

  /** Validates and stores a partial update; returns the settings now in force. */
  async update(input: unknown): Promise<Settings> {
    const parsed = SettingsSchema.partial().safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GatewayError(
        ErrorCode.BadRequest,
        `Invalid setting ${String(issue?.path[0] ?? "")}: ${issue?.message ?? "invalid"}. Known settings: handoffMessage.`,
      );
    }
    const entries = Object.entries(parsed.data).filter(([, v]) => v !== undefined) as [string, string][];
    if (entries.length > 0) await this.#redis.hset(this.#key, Object.fromEntries(entries));
    this.#cache = undefined;
    return this.get();
  }
}
