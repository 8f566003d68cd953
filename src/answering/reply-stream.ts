import type { Redis } from "ioredis";
import type { AnswerKind } from "../conversation/conversations.ts";
import type { Citation } from "../knowledge/citation.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { LuaScript } from "../redis/lua-script.ts";
import { APPEND_ENTRY_LUA } from "./stream-append.ts";

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
}

/** Appends one token entry to a reply stream and publishes it (see stream-append.ts). */
const TOKEN_SCRIPT = new LuaScript(
  `${APPEND_ENTRY_LUA}
return appendEntry(KEYS[1], ARGV[1], 0, {'t', 'token', 'd', ARGV[2]})`,
  1,
);

/**
 * Writes one attempt's tokens (the attempt's start entry is written by the ledger when the attempt
 * begins). Commands go down one connection in order, so entries keep their order without awaiting each
 * one; `flush()` waits for all of them.
 */
export class ReplyWriter {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #channel: string;
  readonly #attempt: number;
  readonly #coalesceMs: number;
  #buffer = "";
  #timer: NodeJS.Timeout | undefined;
  #sentAny = false;
  #pending: Promise<unknown>[] = [];

  constructor({ redis, keys, messageId, attempt, coalesceMs = 25 }: ReplyWriterOptions) {
    this.#redis = redis;
    this.#key = keys.reply(messageId);
    this.#channel = keys.streamEventsOf(this.#key);
    this.#attempt = attempt;
    this.#coalesceMs = coalesceMs;
  }

  /** True once any text went out (an answer without streamed text publishes it with its final entry). */
  get streamed(): boolean {
    return this.#sentAny;
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
    const d = JSON.stringify({ attempt: this.#attempt, text: this.#buffer });
    this.#buffer = "";
    const p = TOKEN_SCRIPT.run(this.#redis, [this.#key], [this.#channel, d]);
    // Errors surface in flush(); avoid an unhandled rejection in between.
    p.catch(() => undefined);
    this.#pending.push(p);
  }
}
