import type { Response } from "express";
import type { FinalAnswer, ReplyFailure, ReplySink } from "../types.ts";

/**
 * Renders one answer as Server-Sent Events. Each event's `id:` is `<log entry>~<reply entry>`, a
 * position the client sends back as Last-Event-ID to resume after a dropped connection without
 * receiving any text twice. The id is known only once the follower reports the entry, so the event is
 * held until then.
 */
export class SseSink implements ReplySink {
  readonly #res: Response;
  readonly #messageId: string;
  readonly #logId: string;
  #pending: { event: string; data: unknown } | undefined;

  constructor(res: Response, messageId: string, logId: string) {
    this.#res = res;
    this.#messageId = messageId;
    this.#logId = logId;
  }

  async onChunk(text: string): Promise<void> {
    this.#pending = { event: "token", data: { messageId: this.#messageId, text } };
  }

  async onFinal(answer: FinalAnswer): Promise<void> {
    const { messageId, text, citations, kind } = answer;
    this.#pending = { event: "reply", data: { messageId, text, citations, kind } };
  }

  async onError(failure: ReplyFailure): Promise<void> {
    this.#pending = { event: "error", data: failure };
  }

  /** Writes the held event with its resumable id. */
  entry(entryId: string): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending || this.#res.writableEnded) return;
    coalesce(this.#res);
    this.#res.write(
      `id: ${this.#logId}~${entryId}\nevent: ${pending.event}\ndata: ${JSON.stringify(pending.data)}\n\n`,
    );
  }
}

const corked = new WeakSet<Response>();

/**
 * Events that come together (an answer written in one piece arrives as its text and its final entry)
 * leave in one write: the stream is corked until this turn of the event loop is over.
 */
function coalesce(res: Response): void {
  if (corked.has(res)) return;
  corked.add(res);
  res.cork();
  setImmediate(() => {
    corked.delete(res);
    res.uncork();
  });
}

export function openEventStream(res: Response): void {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-transform");
  res.setHeader("Connection", "keep-alive");
  // Reverse proxies (nginx) buffer responses unless told not to.
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  res.write("retry: 2000\n\n");
}

/** Splits a Last-Event-ID (`<log entry>~<reply entry>`) into its parts; anything else means "from the start". */
export function parseEventId(value: unknown): { logId: string; replyId: string } | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d+-\d+)~(\d+-\d+)$/.exec(value);
  return match?.[1] && match[2] ? { logId: match[1], replyId: match[2] } : undefined;
}
