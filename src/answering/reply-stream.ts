import type { Redis } from "ioredis";
import type { AnswerKind } from "../conversation/conversations.ts";
import type { Citation } from "../knowledge/citation.ts";
import type { Keyspace } from "../redis/keyspace.ts";

/**
 * One answer travels from worker to gateway as a Redis stream keyed by message id. Entries have two
 * fields: `t` (type) and `d` (JSON). A stream (not pub/sub) so a follower that connects late, or
 * reconnects, reads from any position without losing text.
 */
export type ReplyEntry =
  | { t: "start"; d: { attempt: number; at: number } }
  | { t: "token"; d: { attempt: number; text: string } }
  | {
      t: "final";
      d: { text: string; citations: Citation[]; kind: AnswerKind; tokens: number; at: number };
    }
  | { t: "error"; d: { code: string; message: string; at: number } };

export function replyKey(keys: Keyspace, messageId: string): string {
  return keys.reply(messageId);
}

export function decodeEntry(fields: string[]): ReplyEntry | undefined {
  let t: string | undefined;
  let d: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "t") t = fields[i + 1];
    else if (fields[i] === "d") d = fields[i + 1];
  }
  if (t === undefined || d === undefined) return undefined;
  return { t, d: JSON.parse(d) } as ReplyEntry;
}

export interface ReplyWriterOptions {
  redis: Redis;
  keys: Keyspace;
  messageId: string;
  attempt: number;
  /** Streamed text is batched into one entry per this many ms (the first piece goes at once). @defaultValue 25 */
  coalesceMs?: number;
  /** Stream lifetime. @defaultValue 1 day */
  ttlSeconds?: number;
}

/**
 * Writes one attempt's start and tokens. Commands go down one connection in order, so entries keep
 * their order without awaiting each one; `flush()` waits for all of them.
 */
export class ReplyWriter {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #attempt: number;
  readonly #coalesceMs: number;
  readonly #ttl: number;
  #buffer = "";
  #timer: NodeJS.Timeout | undefined;
  #sentAny = false;
  #pending: Promise<unknown>[] = [];

  constructor({
    redis,
    keys,
    messageId,
    attempt,
    coalesceMs = 25,
    ttlSeconds = 24 * 3600,
  }: ReplyWriterOptions) {
    this.#redis = redis;
    this.#key = replyKey(keys, messageId);
    this.#attempt = attempt;
    this.#coalesceMs = coalesceMs;
    this.#ttl = ttlSeconds;
  }

  start(): void {
    this.#add({ t: "start", d: { attempt: this.#attempt, at: Date.now() } });
    this.#pending.push(this.#redis.expire(this.#key, this.#ttl));
  }

  token(text: string): void {
    // The final answer is trimmed; dropping the answer's leading whitespace here too keeps the streamed
    // text a prefix of the final one.
    if (!this.#sentAny && this.#buffer.length === 0) text = text.replace(/^\s+/, "");
    if (text.length === 0) return;
    this.#buffer += text;
    if (!this.#sentAny) {
      this.#sentAny = true;
      this.#emit();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#emit(), this.#coalesceMs);
    }
  }

  /** Sends buffered text and waits until every entry is stored. */
  async flush(): Promise<void> {
    this.#emit();
    const pending = this.#pending;
    this.#pending = [];
    await Promise.all(pending);
  }

  #emit(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    this.#add({ t: "token", d: { attempt: this.#attempt, text: this.#buffer } });
    this.#buffer = "";
  }

  #add(entry: ReplyEntry): void {
    const p = this.#redis.xadd(this.#key, "*", "t", entry.t, "d", JSON.stringify(entry.d));
    // Errors surface in flush(); avoid an unhandled rejection in between.
    p.catch(() => undefined);
    this.#pending.push(p);
  }
}
