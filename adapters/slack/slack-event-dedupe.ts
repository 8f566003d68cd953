import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";

/**
 * While an event is being accepted its key lives this long: long enough to drop a redelivery that
 * arrives meanwhile, short enough that if this gateway dies before accepting, Slack's next retry
 * (1 minute, then 5) is processed rather than dropped.
 */
const IN_FLIGHT_SECONDS = 30;

/**
 * Remembers Slack event ids, so that a redelivery (x-slack-retry-num) or a second delivery of the same
 * event is dropped before it reaches the conversation layer. The conversation layer also dedupes on the
 * message itself; this catches retries of events that carry no message (and saves the work).
 */
export class SlackEventDedupe {
  constructor(
    private readonly redis: ChannelRedis,
    private readonly keys: ChannelKeys,
    private readonly ttlSeconds: number,
  ) {}

  /** True the first time an event id is seen (within the TTL); call `done` or `release` after. */
  async claim(eventId: string): Promise<boolean> {
    const ttl = Math.min(IN_FLIGHT_SECONDS, this.ttlSeconds);
    return (await this.redis.set(this.#key(eventId), "1", "EX", ttl, "NX")) === "OK";
  }

  /** The event was accepted: remember it for the full TTL. */
  async done(eventId: string): Promise<void> {
    await this.redis.expire(this.#key(eventId), this.ttlSeconds);
  }

  /** Forgets an event whose processing failed, so that Slack's retry is processed. */
  async release(eventId: string): Promise<void> {
    await this.redis.del(this.#key(eventId));
  }

  #key(eventId: string): string {
    return this.keys.key("event", eventId);
  }
}
