import type { webApi } from "@slack/bolt";
import type {
  Conversations,
  FinalAnswer,
  ReplyFailure,
  ReplySink,
} from "../../src/conversation/conversations.ts";
import { asCodedError, ErrorCode } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { AnswerControls } from "./slack-blocks.ts";
import type { SlackReplyTarget } from "./slack-message.ts";
import type { OutboxEntry, SlackOutbox } from "./slack-outbox.ts";
import { SlackReplySink, type StreamingSupport } from "./slack-reply-sink.ts";

export interface SlackDeliveryOptions {
  client: webApi.WebClient;
  conversations: Conversations;
  outbox: SlackOutbox;
  streaming: StreamingSupport;
  /** Which buttons go under an answer (decided per answer). */
  controls: () => AnswerControls;
  logger: Logger;
  /** Longest wait for one answer before the attempt counts as failed (the model's own timeout plus margin). */
  followTimeoutMs: number;
  /** How often owed answers whose lease lapsed are taken over. @defaultValue 15000 */
  sweepIntervalMs?: number;
  appendIntervalMs?: number;
  updateIntervalMs?: number;
}

/**
 * Delivers accepted answers to Slack threads through the outbox: an answer is owed from the moment its
 * message is accepted until Slack has the final text; a failed or orphaned delivery is tried again by a
 * sweep (from the start of the answer, as a new message).
 */
export class SlackDelivery {
  readonly #o: SlackDeliveryOptions;
  readonly #log: Logger;
  readonly #inflight = new Set<Promise<void>>();
  readonly #delivering = new Set<string>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: SlackDeliveryOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "slack-delivery" });
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Records the answer as owed, shows the "working" reaction and starts delivering it. */
  async accept(messageId: string, target: SlackReplyTarget, conversationKey: string): Promise<void> {
    await this.#o.outbox.add({ messageId, target, conversationKey });
    this.track(this.#deliver({ messageId, target, conversationKey, attempts: 0, since: Date.now() }, true));
  }

  /** Takes over owed answers nobody is delivering (a dead gateway's, or ones that failed). */
  async sweep(): Promise<number> {
    const stale = (await this.#o.outbox.claimStale()).filter((e) => !this.#delivering.has(e.messageId));
    for (const entry of stale) this.track(this.#deliver(entry, false));
    if (stale.length > 0) this.#log.info({ count: stale.length }, "resuming owed slack answers");
    return stale.length;
  }

  start(): void {
    const run = () => {
      this.sweep().catch((error: unknown) =>
        this.#log.warn({ err: asCodedError(error).code }, "outbox sweep failed"),
      );
    };
    run();
    this.#sweeper = setInterval(run, this.#o.sweepIntervalMs ?? 15_000);
    this.#sweeper.unref();
  }

  /** Stops sweeping and waits (up to `graceMs`) for deliveries in flight. */
  async stop(graceMs: number): Promise<void> {
    clearInterval(this.#sweeper);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inflight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  track(work: Promise<void>): void {
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  async #deliver(entry: OutboxEntry, acknowledge: boolean): Promise<void> {
    const { messageId } = entry;
    this.#delivering.add(messageId);
    const renew = setInterval(() => {
      this.#o.outbox.renew(messageId).catch(() => undefined);
    }, this.#o.outbox.leaseMs / 3);
    const sink = new SlackReplySink({
      client: this.#o.client,
      target: entry.target,
      messageId,
      conversationKey: entry.conversationKey,
      controls: this.#o.controls(),
      streaming: this.#o.streaming,
      logger: this.#o.logger,
      ...(this.#o.appendIntervalMs !== undefined ? { appendIntervalMs: this.#o.appendIntervalMs } : {}),
      ...(this.#o.updateIntervalMs !== undefined ? { updateIntervalMs: this.#o.updateIntervalMs } : {}),
    });
    if (acknowledge) sink.acknowledge();
    let delivered = false;
    const tracked: ReplySink = {
      onChunk: (text) => sink.onChunk(text),
      onFinal: async (answer: FinalAnswer) => {
        await sink.onFinal(answer);
        delivered = true;
      },
      onError: async (failure: ReplyFailure) => {
        await sink.onError(failure);
        delivered = true;
      },
    };
    try {
      await this.#o.conversations.follow(messageId, tracked, {
        signal: AbortSignal.timeout(this.#o.followTimeoutMs),
      });
      if (!delivered) throw new Error("no final answer within the follow timeout");
      await this.#o.outbox.complete(messageId);
    } catch (error) {
      const coded = asCodedError(error);
      if (coded.code === ErrorCode.NotFound) {
        // The message is no longer known (expired): nothing can be delivered any more.
        await this.#o.outbox.complete(messageId);
        this.#log.warn({ messageId }, "owed slack answer dropped: the message is no longer known");
      } else if (await this.#o.outbox.fail(entry)) {
        this.#log.warn(
          { messageId, attempt: entry.attempts + 1, code: coded.code },
          "slack answer not delivered; will retry",
        );
      } else {
        this.#log.error(
          { messageId, attempts: entry.attempts + 1, code: coded.code },
          "slack answer given up",
        );
      }
    } finally {
      clearInterval(renew);
      this.#delivering.delete(messageId);
    }
  }
}
