import type { Redis } from "ioredis";

/**
 * Remembers Slack event ids, so that a redelivery (x-slack-retry-num) or a second delivery of the same
 * event is dropped before it reaches the conversation layer. The conversation layer also dedupes on the
 * message itself; this catches retries of events that carry no message (and saves the work).
 */
export class SlackEventDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  /** True the first time an event id is seen (within the TTL). */
  async claim(eventId: string): Promise<boolean> {
    return (await this.redis.set(this.#key(eventId), "1", "EX", this.ttlSeconds, "NX")) === "OK";
  }

  /** Forgets an event whose processing failed, so that Slack's retry is processed. */
  async release(eventId: string): Promise<void> {
    await this.redis.del(this.#key(eventId));
  }

  #key(eventId: string): string {
    return `${this.prefix}:slack:event:${eventId}`;
  }
}
