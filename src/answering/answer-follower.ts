import type { FollowOptions, ReplySink } from "../conversation/conversations.ts";
import type { ReplyHub } from "./reply-hub.ts";
import { decodeEntry, type ReplyEntry } from "./reply-stream.ts";

/**
 * Turns one answer's reply stream into ordered ReplySink calls.
 *
 * When a worker dies mid-answer another one starts a new attempt from scratch. Text already shown is
 * not shown twice: tokens of the new attempt are passed on only once they go beyond what was emitted
 * (same seed, so usually the same text); if the new text differs, streaming stops and the final answer,
 * which is authoritative, replaces it.
 */
export function followAnswer(
  hub: ReplyHub,
  key: string,
  messageId: string,
  sink: ReplySink,
  { signal, after = "0", onEntry }: FollowOptions = {},
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let attempt = 0;
    let emitted = "";
    let attemptText = "";
    let diverged = false;
    let started = false;
    let done = false;
    let settled = false;
    let chain: Promise<void> = Promise.resolve();

    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => {
      settled = true;
      finish();
    };

    const handle = async (entry: ReplyEntry): Promise<void> => {
      switch (entry.t) {
        case "start":
          if (entry.d.attempt > attempt) {
            attempt = entry.d.attempt;
            attemptText = "";
          }
          if (!started) {
            started = true;
            await sink.onStart?.();
          }
          return;
        case "token": {
          // Resumed after the attempt's start entry: adopt the attempt of the first token seen.
          if (attempt === 0) attempt = entry.d.attempt;
          if (entry.d.attempt !== attempt || diverged) return;
          attemptText += entry.d.text;
          if (attemptText.length <= emitted.length) {
            if (!emitted.startsWith(attemptText)) diverged = true;
            return;
          }
          if (!attemptText.startsWith(emitted)) {
            diverged = true;
            return;
          }
          const piece = attemptText.slice(emitted.length);
          emitted = attemptText;
          await sink.onChunk(piece);
          return;
        }
        case "final":
          await sink.onFinal({
            messageId,
            text: entry.d.text,
            citations: entry.d.citations,
            kind: entry.d.kind,
          });
          return;
        case "error":
          await sink.onError({ messageId, code: entry.d.code, message: entry.d.message });
          return;
      }
    };

    const unsubscribe = hub.subscribe(key, after, (fields, entryId) => {
      const entry = decodeEntry(fields);
      if (!entry) return;
      chain = chain
        .then(async () => {
          if (settled) return;
          const terminal = entry.t === "final" || entry.t === "error";
          // Claimed before awaiting the sink, so entries queued behind a terminal one are ignored.
          if (terminal) settled = true;
          await handle(entry);
          onEntry?.(entryId);
          if (terminal) finish();
        })
        .catch((error: unknown) => finish(error));
    });
    if (signal?.aborted) finish();
    else signal?.addEventListener("abort", onAbort);
  });
}
