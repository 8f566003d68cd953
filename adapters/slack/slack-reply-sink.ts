import type { webApi } from "@slack/bolt";
import type { FinalAnswer, ReplyFailure, ReplySink } from "../../src/conversation/conversations.ts";
import { ErrorCode, GatewayError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import {
  type AnswerControls,
  answerBlocks,
  citationsText,
  escapeMrkdwn,
  trailerBlocks,
} from "./slack-blocks.ts";
import { slackErrorCode } from "./slack-delivery-errors.ts";
import type { SlackReplyTarget } from "./slack-message.ts";

type WebClient = webApi.WebClient;

/** Shared by every sink of one adapter: once Slack says it has no streaming, stop trying it. */
export interface StreamingSupport {
  enabled: boolean;
}

/** Platform errors meaning "this workspace or token cannot stream at all", not "this one call failed". */
const STREAMING_UNAVAILABLE = new Set([
  "unknown_method",
  "method_deprecated",
  "missing_scope",
  "not_allowed_token_type",
  "feature_not_enabled",
  "not_implemented",
]);

export interface SlackReplySinkOptions {
  client: WebClient;
  target: SlackReplyTarget;
  /** The answer's message id (goes into the buttons). */
  messageId: string;
  conversationKey: string;
  controls: AnswerControls;
  streaming: StreamingSupport;
  logger: Logger;
  /** Fewest milliseconds between two `chat.appendStream` calls. @defaultValue 250 */
  appendIntervalMs?: number;
  /**
   * Fewest milliseconds between two `chat.update` calls on the posted-message path: chat.update is
   * Tier 3 (about 50 a minute per workspace), never once per token. @defaultValue 1000
   */
  updateIntervalMs?: number;
  /** Emoji put on the question while the answer is being made; "" for none. @defaultValue "eyes" */
  workingReaction?: string;
  /**
   * A message an earlier attempt began (a gateway that died, a failed final write): this attempt writes
   * the final answer into it instead of posting a second message.
   */
  resume?: PostedMessage | undefined;
  /** Called once this attempt has begun a message, before any more is written to it. */
  onPosted?: (posted: PostedMessage) => Promise<void>;
}

type Mode = "none" | "stream" | "post";

/** The message an attempt began in the thread (kept with the delivery job for a later attempt). */
export interface PostedMessage {
  ts: string;
  mode: "stream" | "post";
}

/**
 * Renders one answer into a Slack thread: streamed with chat.startStream / appendStream / stopStream
 * where the workspace supports it, otherwise one posted message updated at most once a second. 429s
 * are retried by the Web API client after Retry-After (its queue pauses), so a slow-down delays the
 * answer but never drops it; the final text always replaces what was streamed.
 */
export class SlackReplySink implements ReplySink {
  readonly #o: Required<Omit<SlackReplySinkOptions, "resume" | "onPosted">> &
    Pick<SlackReplySinkOptions, "onPosted">;
  readonly #log: Logger;
  #mode: Mode = "none";
  /** ts of the message being written. */
  #ts: string | undefined;
  /** Text Slack already shows. */
  #sent = "";
  /** Text received but not yet sent. */
  #pending = "";
  #lastWriteAt = 0;
  #reacted: Promise<boolean> = Promise.resolve(false);
  /** Writing into a message an earlier attempt began: nothing is streamed, the final text replaces it. */
  readonly #resumed: boolean;

  constructor(options: SlackReplySinkOptions) {
    const { resume, ...rest } = options;
    this.#o = { appendIntervalMs: 250, updateIntervalMs: 1000, workingReaction: "eyes", ...rest };
    this.#log = options.logger.child({ component: "slack-sink", messageId: options.messageId });
    this.#resumed = resume !== undefined;
    if (resume) {
      this.#mode = resume.mode;
      this.#ts = resume.ts;
      // The first attempt put the working reaction on; this one takes it off at the end.
      this.#reacted = Promise.resolve(true);
    }
  }

  /** Shows at once that the bot is working (a reaction on the question); never throws. */
  acknowledge(): void {
    const name = this.#o.workingReaction;
    if (!name) return;
    const { channel, messageTs } = this.#o.target;
    this.#reacted = this.#o.client.reactions
      .add({ channel, timestamp: messageTs, name })
      .then(() => true)
      .catch((error: unknown) => {
        this.#log.debug({ err: slackErrorCode(error) }, "working reaction not added");
        return false;
      });
  }

  async onChunk(text: string): Promise<void> {
    if (text.length === 0) return;
    this.#pending += text;
    if (this.#resumed) return;
    try {
      if (this.#mode === "none") await this.#open();
      else if (this.#mode === "stream" && this.#elapsed() >= this.#o.appendIntervalMs) await this.#append();
      else if (this.#mode === "post" && this.#elapsed() >= this.#o.updateIntervalMs) await this.#update();
    } catch (error) {
      // Keep the text: the final answer is delivered in full whatever happened to the stream.
      this.#log.warn({ err: slackErrorCode(error) }, "streaming to slack failed; will deliver at the end");
    }
  }

  async onFinal(answer: FinalAnswer): Promise<void> {
    const value = { messageId: this.#o.messageId, conversationKey: this.#o.conversationKey };
    // The fallback `text` is mrkdwn, so what the model, the knowledge or the user wrote is escaped.
    const fallback = escapeMrkdwn(answer.text) + citationsText(answer.citations);
    const { channel, threadTs } = this.#o.target;
    try {
      if (this.#resumed && this.#ts) {
        // An earlier attempt's message: close its stream if it is still open, then make it the answer.
        if (this.#mode === "stream") {
          await this.#o.client.chat.stopStream({ channel, ts: this.#ts }).catch((error: unknown) => {
            this.#log.debug({ err: slackErrorCode(error) }, "earlier stream already closed");
          });
        }
        await this.#o.client.chat.update({
          channel,
          ts: this.#ts,
          text: fallback,
          blocks: answerBlocks(answer.text, answer.citations, value, this.#o.controls),
        });
      } else if (this.#mode === "stream" && this.#ts) {
        const ts = this.#ts;
        const rest = remainder(this.#sent, this.#pending, answer.text);
        await this.#o.client.chat.stopStream({
          channel,
          ts,
          ...(rest ? { markdown_text: rest } : {}),
          blocks: trailerBlocks(answer.citations, value, this.#o.controls),
        });
        // The final answer is authoritative: when it is not what was streamed, rewrite the message.
        if (rest === undefined) {
          await this.#o.client.chat.update({
            channel,
            ts,
            text: fallback,
            blocks: answerBlocks(answer.text, answer.citations, value, this.#o.controls),
          });
        }
      } else if (this.#mode === "post" && this.#ts) {
        await this.#waitFor(this.#o.updateIntervalMs);
        await this.#o.client.chat.update({
          channel,
          ts: this.#ts,
          text: fallback,
          blocks: answerBlocks(answer.text, answer.citations, value, this.#o.controls),
        });
      } else {
        await this.#o.client.chat.postMessage({
          channel,
          thread_ts: threadTs,
          text: fallback,
          blocks: answerBlocks(answer.text, answer.citations, value, this.#o.controls),
        });
      }
    } catch (error) {
      throw deliveryFailed(error);
    } finally {
      this.#clearReaction();
    }
  }

  async onError(failure: ReplyFailure): Promise<void> {
    const note = failureText(failure.code);
    const { channel, threadTs } = this.#o.target;
    try {
      if (this.#resumed && this.#ts) {
        if (this.#mode === "stream") {
          await this.#o.client.chat.stopStream({ channel, ts: this.#ts }).catch(() => undefined);
        }
        await this.#o.client.chat.update({ channel, ts: this.#ts, text: note, blocks: [] });
      } else if (this.#mode === "stream" && this.#ts) {
        await this.#o.client.chat.stopStream({
          channel,
          ts: this.#ts,
          markdown_text: `${this.#pending}\n\n_${note}_`,
        });
      } else if (this.#mode === "post" && this.#ts) {
        await this.#o.client.chat.update({
          channel,
          ts: this.#ts,
          text: `${escapeMrkdwn(this.#sent + this.#pending)}\n\n_${note}_`,
        });
      } else {
        await this.#o.client.chat.postMessage({ channel, thread_ts: threadTs, text: note });
      }
    } catch (error) {
      throw deliveryFailed(error);
    } finally {
      this.#clearReaction();
    }
  }

  /** First text: start a stream, or post a message when streaming is unavailable. */
  async #open(): Promise<void> {
    const { channel, threadTs, userId, teamId } = this.#o.target;
    const text = this.#pending;
    if (this.#o.streaming.enabled) {
      try {
        const started = await this.#o.client.chat.startStream({
          channel,
          thread_ts: threadTs,
          markdown_text: text,
          // Required outside DMs: whom the streamed message is for.
          recipient_user_id: userId,
          recipient_team_id: teamId,
        });
        await this.#began("stream", started.ts, text);
        return;
      } catch (error) {
        const code = slackErrorCode(error);
        if (code === undefined) throw error;
        if (STREAMING_UNAVAILABLE.has(code)) {
          this.#o.streaming.enabled = false;
          this.#log.warn({ err: code }, "slack streaming unavailable; answering with posted messages");
        } else {
          this.#log.warn({ err: code }, "chat.startStream refused; posting this answer instead");
        }
      }
    }
    const posted = await this.#o.client.chat.postMessage({
      channel,
      thread_ts: threadTs,
      text: escapeMrkdwn(text),
    });
    await this.#began("post", posted.ts, text);
  }

  async #began(mode: "stream" | "post", ts: string | undefined, text: string): Promise<void> {
    if (!ts)
      throw new GatewayError(ErrorCode.DeliveryFailed, "Slack accepted the message but returned no ts.");
    this.#mode = mode;
    this.#ts = ts;
    this.#sent = text;
    this.#pending = this.#pending.slice(text.length);
    this.#lastWriteAt = Date.now();
    // Kept with the job before anything else is written: an attempt after this one finishes this message.
    await this.#o.onPosted?.({ ts, mode }).catch((error: unknown) => {
      this.#log.warn({ err: (error as Error).message }, "posted message not recorded with its delivery");
    });
  }

  async #append(): Promise<void> {
    if (!this.#ts || this.#pending.length === 0) return;
    const text = this.#pending;
    await this.#o.client.chat.appendStream({
      channel: this.#o.target.channel,
      ts: this.#ts,
      markdown_text: text,
    });
    this.#sent += text;
    this.#pending = this.#pending.slice(text.length);
    this.#lastWriteAt = Date.now();
  }

  async #update(): Promise<void> {
    if (!this.#ts || this.#pending.length === 0) return;
    const text = this.#sent + this.#pending;
    await this.#o.client.chat.update({
      channel: this.#o.target.channel,
      ts: this.#ts,
      text: escapeMrkdwn(text),
    });
    this.#sent = text;
    this.#pending = "";
    this.#lastWriteAt = Date.now();
  }

  #elapsed(): number {
    return Date.now() - this.#lastWriteAt;
  }

  async #waitFor(intervalMs: number): Promise<void> {
    const wait = intervalMs - this.#elapsed();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  #clearReaction(): void {
    const name = this.#o.workingReaction;
    if (!name) return;
    const { channel, messageTs } = this.#o.target;
    void this.#reacted.then((added) =>
      added
        ? this.#o.client.reactions.remove({ channel, timestamp: messageTs, name }).catch((error: unknown) => {
            this.#log.debug({ err: slackErrorCode(error) }, "working reaction not removed");
          })
        : undefined,
    );
  }
}

/**
 * What to append so that the streamed message ends up as the final answer, or undefined when the final
 * text differs from what was streamed (then the message is rewritten). The final text is trimmed, the
 * stream is not: whitespace at the ends does not count as a difference.
 */
export function remainder(sent: string, pending: string, final: string): string | undefined {
  if ((sent + pending).trim() === final) return pending.trimEnd();
  const shown = sent.trimStart();
  return final.startsWith(shown) ? final.slice(shown.length) : undefined;
}

function deliveryFailed(error: unknown): GatewayError {
  const code = slackErrorCode(error);
  const detail = code ?? (error instanceof Error ? error.message : String(error));
  return new GatewayError(ErrorCode.DeliveryFailed, `Slack refused the answer (${detail}).`, {
    cause: error,
  });
}

/** What the person sees when no answer comes. */
export function failureText(code: string): string {
  switch (code) {
    case ErrorCode.Cancelled:
      return "Stopped.";
    case ErrorCode.Timeout:
      return "Sorry, this took too long to answer. Please ask again in a moment.";
    case ErrorCode.HandedOff:
      return "A person from support is handling this conversation.";
    case ErrorCode.Unavailable:
      return "Sorry, nobody can answer right now: our assistant is not available. Please try again in a few minutes.";
    default:
      return "Sorry, I could not answer that just now. Please try again in a moment.";
  }
}
