import type { ConversationReference } from "botbuilder";
import type { ChannelKeys } from "../../src/redis/keyspace.ts";
import type { ChannelRedis } from "../types.ts";
import type { TeamsScope } from "./inbound-activity.ts";

/** An accepted message whose answer has not reached Teams yet. */
export interface PendingAnswer {
  messageId: string;
  reference: Partial<ConversationReference>;
  scope: TeamsScope;
  acceptedAt: number;
}

/**
 * Which accepted Teams messages still await delivery, and which gateway follows each. Teams does not
 * redeliver an activity that was acknowledged with 200, so if the gateway following an answer dies,
 * nothing would ever send it: every gateway's outbox pass adopts pending answers whose follower's
 * claim has expired and follows them again from the start of their reply stream.
 */
export class TeamsPendingAnswers {
  private readonly index: string;

  constructor(
    private readonly redis: ChannelRedis,
    private readonly keys: ChannelKeys,
    /** How long a follower's claim lasts; longer than any answer may take. */
    private readonly claimSeconds: number,
  ) {
    this.index = keys.key("pending");
  }

  private claimKey(messageId: string): string {
    return this.keys.key("follow", messageId);
  }

  /**
   * Claims an answer for this gateway and records it as pending. False when someone already follows it
   * or it was delivered (a redelivered activity), so that an answer is followed once.
   */
  async claim(answer: PendingAnswer): Promise<boolean> {
    const won = await this.redis.set(
      this.claimKey(answer.messageId),
      "following",
      "EX",
      this.claimSeconds,
      "NX",
    );
    if (won === null) return false;
    await this.redis.hset(this.index, answer.messageId, JSON.stringify(answer));
    return true;
  }

  /** The answer reached Teams (or the outbox, which retries it itself): nothing is pending any more. */
  async settle(messageId: string, keepSeconds: number): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.index, messageId)
      // The claim stays, marked delivered, so that a late redelivery of the activity adds nothing.
      .set(this.claimKey(messageId), "delivered", "EX", keepSeconds)
      .exec();
  }

  /** Forgets an answer that can never be delivered (its reply stream is gone). */
  async drop(messageId: string): Promise<void> {
    await this.redis.hdel(this.index, messageId);
  }

  /**
   * Pending answers whose follower is gone, each newly claimed by this gateway. Entries older than
   * `maxAgeMs` are dropped instead: their reply streams have expired, so there is nothing to follow.
   */
  async adoptOrphans(maxAgeMs: number, limit = 20): Promise<PendingAnswer[]> {
    const adopted: PendingAnswer[] = [];
    const entries = await this.redis.hgetall(this.index);
    for (const [messageId, raw] of Object.entries(entries)) {
      if (adopted.length >= limit) break;
      const answer = JSON.parse(raw) as PendingAnswer;
      if (Date.now() - answer.acceptedAt > maxAgeMs) {
        await this.drop(messageId);
        continue;
      }
      const won = await this.redis.set(this.claimKey(messageId), "following", "EX", this.claimSeconds, "NX");
      if (won === null) continue;
      adopted.push(answer);
    }
    return adopted;
  }
}
