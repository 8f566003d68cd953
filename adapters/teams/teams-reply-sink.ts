import type { Activity, ConversationReference } from "botbuilder";
import type { FinalAnswer, ReplyFailure, ReplySink } from "../../src/conversation/conversations.ts";
import type { Logger } from "../../src/logger.ts";
import type { TeamsScope } from "./inbound-activity.ts";
import { describeSendError, type TeamsConnector, teamsDeliveryError } from "./teams-connector.ts";
import { renderAnswer, renderFailure, withStream } from "./teams-render.ts";

export interface TeamsReplySinkOptions {
  connector: TeamsConnector;
  reference: Partial<ConversationReference>;
  scope: TeamsScope;
  messageId: string;
  logger: Logger;
  /**
   * Stream in personal chats. Off on a later attempt of a delivery: a stream an earlier attempt opened
   * cannot be continued, so the answer goes as one message. @defaultValue true
   */
  stream?: boolean;
  /** Called with the ids Teams knows the final message by, to map feedback back to the answer. */
  onDelivered?: (activityIds: string[]) => Promise<void>;
  /** Shortest gap between two streaming updates. @defaultValue 1000 (Teams throttles faster streams) */
  streamIntervalMs?: number;
  /** Offer "Talk to a person" under answers. @defaultValue false */
  handoff?: boolean;
  /** Show Teams' thumbs up/down on answers. @defaultValue false */
  feedback?: boolean;
  /** How often the typing indicator is renewed while the message waits for a worker. @defaultValue 3000 */
  typingIntervalMs?: number;
  /** The informative update shown while the answer is queued. @defaultValue "Looking that up…" */
  informativeText?: string;
}

/**
 * Renders one answer into Teams. In personal chats it uses Teams' streaming protocol: an informative
 * update, cumulative "streaming" updates at most once per interval, then the final message carrying the
 * same streamId. Teams allows streaming in 1:1 chats only, so elsewhere only the final answer is sent.
 * Streaming updates are best effort (the next one carries all the text); a final message the connector
 * does not take throws, and the delivery queue tries the answer again.
 */
export class TeamsReplySink implements ReplySink {
  private readonly o: TeamsReplySinkOptions;
  private readonly intervalMs: number;
  private streaming: boolean;
  private streamId: string | undefined;
  private sequence = 0;
  private text = "";
  private nextUpdateAt = 0;
  private typingTimer: NodeJS.Timeout | undefined;

  constructor(options: TeamsReplySinkOptions) {
    this.o = options;
    this.intervalMs = options.streamIntervalMs ?? 1000;
    this.streaming = options.scope === "personal" && (options.stream ?? true);
  }

  /**
   * Shows "typing" now and renews it until the answer starts: Teams shows the indicator for about three
   * seconds, and a message may wait longer than that in the queue. Best effort, never retried.
   */
  async startTyping(): Promise<void> {
    const send = () =>
      this.o.connector.send(this.o.reference, { type: "typing" }).then(
        () => undefined,
        () => undefined,
      );
    this.typingTimer = setInterval(() => void send(), this.o.typingIntervalMs ?? 3000);
    this.typingTimer.unref();
    await send();
  }

  /** Stops renewing "typing" (every answer event does; so must a follow that failed before any). */
  stopTyping(): void {
    if (this.typingTimer) clearInterval(this.typingTimer);
    this.typingTimer = undefined;
  }

  async onStart(): Promise<void> {
    this.stopTyping();
    if (!this.streaming || this.streamId !== undefined) return;
    const text = this.o.informativeText ?? "Looking that up…";
    await this.update({ type: "typing", text }, "informative");
  }

  async onChunk(text: string): Promise<void> {
    this.stopTyping();
    this.text += text;
    if (!this.streaming || performance.now() < this.nextUpdateAt) return;
    await this.update({ type: "typing", text: this.text }, "streaming");
  }

  async onFinal(answer: FinalAnswer): Promise<void> {
    this.stopTyping();
    let activity = renderAnswer(answer, {
      handoff: this.o.handoff ?? false,
      feedback: this.o.feedback ?? false,
    });
    if (this.streaming && this.streamId !== undefined) {
      activity = withStream(activity, { streamId: this.streamId, streamType: "final" });
    }
    await this.deliver(activity);
  }

  async onError(failure: ReplyFailure): Promise<void> {
    this.stopTyping();
    let activity = renderFailure(failure.message);
    // An open stream must be closed by a final message, or Teams shows it as still typing.
    if (this.streaming && this.streamId !== undefined) {
      activity = withStream(activity, { streamId: this.streamId, streamType: "final" });
    }
    await this.deliver(activity);
  }

  private async update(activity: Partial<Activity>, streamType: "informative" | "streaming"): Promise<void> {
    this.sequence += 1;
    const streamed = withStream(activity, {
      streamType,
      streamSequence: this.sequence,
      ...(this.streamId === undefined ? {} : { streamId: this.streamId }),
    });
    this.nextUpdateAt = performance.now() + this.intervalMs;
    try {
      const id = await this.o.connector.send(this.o.reference, streamed);
      // The first update's id names the stream; every later update and the final message repeat it.
      this.streamId ??= id || undefined;
    } catch (error) {
      const { status, retryAfterMs } = describeSendError(error);
      if (status === undefined || status === 429 || status === 412 || status >= 500) {
        // Skip this update and wait longer before the next; it will carry the text skipped here.
        const wait = Math.max(retryAfterMs ?? 0, 2 * this.intervalMs);
        this.nextUpdateAt = performance.now() + wait;
        return;
      }
      // Anything else (e.g. 403 when streaming is not allowed here) means: stop streaming, send one message.
      this.o.logger.warn(
        { conversationId: this.o.reference.conversation?.id, status },
        "teams streaming refused; sending the answer as one message",
      );
      this.streaming = false;
    }
  }

  private async deliver(activity: Partial<Activity>): Promise<void> {
    let id: string;
    try {
      id = await this.o.connector.send(this.o.reference, activity);
    } catch (error) {
      throw teamsDeliveryError(error);
    }
    // For a streamed answer Teams keeps the stream's id for the final message.
    const ids = [id, this.streamId].filter((x): x is string => typeof x === "string" && x.length > 0);
    await this.o.onDelivered?.([...new Set(ids)]);
  }
}
