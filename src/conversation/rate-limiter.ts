import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.ts";

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the current window ends (when refused). */
  retryAfterSeconds: number;
}

/**
 * Fixed one-minute windows in Redis (INCR + EXPIRE in one MULTI), shared by every gateway. Simple and
 * predictable for users: "20 messages a minute" means exactly that within each minute.
 */
export class RateLimiter {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #now: () => number;

  /** @param now the clock (tests move it instead of waiting for a minute to pass). */
  constructor(redis: Redis, keys: Keyspace, now: () => number = Date.now) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
  }

  /** Counts one hit for `id` in `scope`; `limitPerMinute` 0 means unlimited. */
  async hit(scope: string, id: string, limitPerMinute: number): Promise<RateDecision> {
    if (limitPerMinute <= 0) return { allowed: true, retryAfterSeconds: 0 };
    const now = this.#now();
    const window = Math.floor(now / 60_000);
    const key = this.#keys.rate(scope, id, window);
    const results = await this.#redis.multi().incr(key).expire(key, 61).exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
    return { allowed: count <= limitPerMinute, retryAfterSeconds };
  }
}
