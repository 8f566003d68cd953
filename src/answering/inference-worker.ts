import { DelayedError, type Job, type Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { ContextStore } from "../conversation/context-store.ts";
import type { AnswerKind } from "../conversation/conversations.ts";
import type { Turn } from "../conversation/turn.ts";
import { ErrorCode, isCodedError } from "../errors.ts";
import type { Snippet } from "../knowledge/citation.ts";
import type { Logger } from "../logger.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { type AnswerJob, AnswerJobSchema } from "./answer-job.ts";
import type { AnswerLedger } from "./answer-ledger.ts";
import type { Answerer, ComposedAnswer } from "./answerer.ts";
import { UNAVAILABLE_TEXT } from "./queue-wait.ts";
import { ReplyWriter } from "./reply-stream.ts";

/** What became of one message, once its final entry is published (for analytics). */
export interface AnswerOutcome {
  job: AnswerJob;
  kind: AnswerKind;
  snippets: Snippet[];
  knowledgeReady: boolean;
  /** The knowledge's answerability decision, when the worker retrieved. */
  decision?: ComposedAnswer["decision"];
  /** When the first text of the answer was written (ms since epoch). */
  firstTextAt: number;
}

export interface InferenceWorkerOptions {
  queueName: string;
  /** BullMQ key prefix. */
  bullPrefix: string;
  /** A connection for BullMQ (created with `blocking: true`). */
  connection: Redis;
  /** The answer queue, to tell a predecessor that is merely waiting from one that was never enqueued. */
  queue: Queue;
  /** A plain connection for reply streams and the ledger (auto-pipelined). */
  redis: Redis;
  keys: Keyspace;
  ledger: AnswerLedger;
  contextStore: ContextStore;
  /** Retrieval and the answer itself: from a model, quoted from sources, or "I don't know". */
  answerer: Answerer;
  /** How many answers run at once (the engine's sequences; more without a model). */
  concurrency: number;
  logger: Logger;
  answerTimeoutMs: number;
  /** QUEUE_WAIT_MS: a message first picked up later than this after it was accepted is not answered. */
  queueWaitMs?: number;
  /** Counts messages ended because they waited too long. */
  onExpired?: () => void;
  /** Told once per message whose answer this worker published (analytics: answered, gaps). */
  onAnswered?: (outcome: AnswerOutcome) => Promise<void>;
  lockMs: number;
  stalledIntervalMs: number;
}

/** How often a job whose predecessor is unfinished checks again. */
const ORDER_RECHECK_MS = 40;
/** How long a claimed message may exist without a job before its successors stop waiting for it. */
const LOST_AFTER_MS = 10_000;

/**
 * Takes answer jobs from BullMQ, as many at once as the engine has sequences (so their decoding is
 * batched), and publishes each answer through the ledger exactly once.
 */
export class InferenceWorker {
  readonly #o: InferenceWorkerOptions;
  readonly #log: Logger;
  readonly #controllers = new Map<string, AbortController>();
  #worker: Worker | undefined;
  #subscriber: Redis | undefined;

  constructor(options: InferenceWorkerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "inference-worker" });
  }

  get concurrency(): number {
    return this.#o.concurrency;
  }

  async start(): Promise<void> {
    const o = this.#o;
    // Cancellation reaches whichever worker holds the job through pub/sub.
    this.#subscriber = o.redis.duplicate();
    await this.#subscriber.subscribe(o.keys.cancelChannel());
    this.#subscriber.on("message", (_channel: string, messageId: string) => {
      this.#controllers.get(messageId)?.abort("cancelled");
    });
    this.#worker = new Worker(o.queueName, (job, token) => this.#process(job, token), {
      connection: o.connection,
      prefix: o.bullPrefix,
      concurrency: this.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: 2,
      autorun: true,
    });
    // A job that failed for good (retries spent, or stalled too often) still owes its user a reply.
    this.#worker.on("failed", (job, error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade >= attempts || /stalled/i.test(error.message);
      if (final)
        void this.#fail(
          job,
          ErrorCode.InferenceFailed,
          "Sorry, something went wrong while answering. Please try again.",
        );
    });
    this.#worker.on("error", (error) => this.#log.warn({ err: error.message }, "worker error"));
  }

  /** Stops taking jobs; waits up to `graceMs` for those in flight, then aborts them (they are retried elsewhere). */
  async close(graceMs = 0): Promise<void> {
    const worker = this.#worker;
    if (worker) {
      const closing = worker.close();
      const timer = (ms: number) => new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms).unref());
      if ((await Promise.race([closing, timer(graceMs)])) === "timeout") {
        for (const c of this.#controllers.values()) c.abort("shutdown");
        // The aborted answers hand their jobs back to the queue and return; give them a moment to do
        // so before cutting the connections (a job left active is only taken over once its lock expires).
        if ((await Promise.race([closing, timer(2000)])) === "timeout") await worker.close(true);
      }
    }
    await this.#subscriber?.quit().catch(() => undefined);
  }

  async #process(job: Job, token?: string): Promise<{ kind: string }> {
    const parsed = AnswerJobSchema.safeParse(job.data);
    if (!parsed.success) {
      this.#log.error({ jobId: job.id }, "job data does not match a known AnswerJob version; failing it");
      await this.#fail(job, ErrorCode.Internal, "Sorry, this message could not be processed.");
      return { kind: "invalid" };
    }
    const data = parsed.data;
    const { ledger } = this.#o;
    // Taken for the first time, but after the queue-wait budget (no gateway's janitor got to it first):
    // the user was, or is about to be, told nobody could answer; answering now would contradict that.
    const waitMs = this.#o.queueWaitMs;
    if (waitMs !== undefined && job.attemptsStarted <= 1 && Date.now() - data.acceptedAt > waitMs) {
      const ended = await ledger.expireQueued(data.messageId, {
        t: "error",
        d: { code: ErrorCode.Unavailable, message: UNAVAILABLE_TEXT, at: Date.now() },
      });
      if (ended) {
        this.#o.onExpired?.();
        return { kind: "unavailable" };
      }
    }
    let previous = data.previousMessageId;
    for (;;) {
      const begun = await ledger.begin(data.messageId, previous);
      switch (begun.outcome) {
        case "done":
          // Finished, but perhaps by a worker that died before appending its turn: make sure it is kept.
          if (begun.turn) await this.#o.contextStore.append(data.conversation, begun.turn);
          return { kind: "already-done" };
        case "cancelled":
          await this.#finishError(data, ErrorCode.Cancelled, "The answer was cancelled.");
          return { kind: "cancelled" };
        case "wait":
          if (previous && (await this.#lost(previous, begun.previousState, begun.previousAcceptedAt))) {
            previous = null;
            continue;
          }
          await job.moveToDelayed(Date.now() + ORDER_RECHECK_MS, token);
          throw new DelayedError();
        case "go":
          return this.#answer(job, data, begun.attempt, token, begun.previousTurn);
      }
    }
  }

  /**
   * A predecessor claimed but never enqueued (its gateway died between the two steps) must not block
   * the conversation forever: after a while without a job it is skipped.
   */
  async #lost(messageId: string, state: string, acceptedAt: number): Promise<boolean> {
    if (state !== "queued" || Date.now() - acceptedAt < LOST_AFTER_MS) return false;
    return (await this.#o.queue.getJobState(messageId)) === "unknown";
  }

  /** @param previousTurn the turn the conversation's previous message made, which the prompt must include. */
  async #answer(
    job: Job,
    data: AnswerJob,
    attempt: number,
    token?: string,
    previousTurn?: Turn,
  ): Promise<{ kind: string }> {
    const o = this.#o;
    const writer = new ReplyWriter({ redis: o.redis, keys: o.keys, messageId: data.messageId, attempt });
    const controller = new AbortController();
    this.#controllers.set(data.messageId, controller);
    const timer = setTimeout(() => controller.abort("timeout"), o.answerTimeoutMs);
    let firstTextAt = 0;
    try {
      const composed = await o.answerer.compose({
        job: data,
        history: () => this.#history(data, previousTurn),
        onText: (chunk) => {
          firstTextAt ||= Date.now();
          writer.token(chunk);
        },
        signal: controller.signal,
      });
      if (composed.aborted !== undefined) {
        await writer.flush();
        const reason = composed.aborted;
        if (reason === "timeout") {
          await this.#finishError(
            data,
            ErrorCode.Timeout,
            "Sorry, the answer took too long. Please try again.",
          );
        } else if (reason === "cancelled") {
          await this.#finishError(data, ErrorCode.Cancelled, "The answer was cancelled.");
        } else {
          // Shutting down past the grace period: hand the job back without spending one of its
          // attempts (a failure would also back off, and retry here while the process stops), so
          // that the next worker starts it at once.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        return { kind: String(reason) };
      }
      if (composed.promptTokens !== undefined) {
        // How much of the prompt the engine took from its prefix cache (ENGINE=native says so).
        this.#log.debug(
          {
            jobId: job.id,
            tokens: composed.tokens,
            promptTokens: composed.promptTokens,
            cachedPromptTokens: composed.cachedPromptTokens,
          },
          "answer generated",
        );
      }
      await writer.flush();
      const { text, kind, citations, tokens } = composed;
      const at = Date.now();
      firstTextAt ||= at;
      const turn = {
        id: data.messageId,
        question: data.question,
        answer: text,
        citations,
        at,
        userId: data.userId,
      };
      // An answer written in one piece (an excerpt, "I don't know") publishes its text with the final
      // entry. The context append runs in the same round trip (auto-pipelined) and keeps the turn the
      // ledger recorded: the winner's, should another worker have finished first.
      const [won] = await Promise.all([
        o.ledger.finish(
          data.messageId,
          { t: "final", d: { text, citations, kind, tokens, at } },
          turn,
          writer.streamed ? undefined : { attempt, text },
        ),
        o.contextStore.appendRecorded(data.conversation, data.messageId, o.ledger.recordOf(data.messageId)),
      ]);
      if (won) {
        await o
          .onAnswered?.({
            job: data,
            kind,
            snippets: composed.snippets,
            knowledgeReady: composed.knowledgeReady,
            ...(composed.decision ? { decision: composed.decision } : {}),
            firstTextAt,
          })
          .catch((error: unknown) =>
            this.#log.warn({ err: (error as Error).message }, "analytics not recorded"),
          );
      }
      return { kind };
    } catch (error) {
      await writer.flush().catch(() => undefined);
      if (error instanceof DelayedError) throw error;
      const attempts = job.opts.attempts ?? 1;
      this.#log.warn(
        { jobId: job.id, attempt: job.attemptsMade + 1, err: (error as Error).message },
        "answer failed",
      );
      // A question too long for the model's context does not fit on a retry either.
      const tooLong = isCodedError(error) && error.code === ErrorCode.ContextOverflow;
      if (tooLong || job.attemptsMade + 1 >= attempts) {
        await this.#finishError(
          data,
          ErrorCode.InferenceFailed,
          "Sorry, something went wrong while answering. Please try again.",
        );
        return { kind: "failed" };
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.#controllers.delete(data.messageId);
    }
  }

  /**
   * The conversation's kept turns for the prompt. The previous message's worker appends its turn right
   * after finishing; in the moment between (or if it died there) the turn is missing, and this answer
   * appends it (the append is idempotent).
   */
  async #history(data: AnswerJob, previousTurn?: Turn): Promise<Turn[]> {
    const store = this.#o.contextStore;
    const history = await store.load(data.conversation);
    if (!previousTurn || history.some((t) => t.id === previousTurn.id)) return history;
    await store.append(data.conversation, previousTurn);
    return store.load(data.conversation);
  }

  async #finishError(data: AnswerJob, code: ErrorCode, message: string): Promise<void> {
    await this.#o.ledger.finish(data.messageId, { t: "error", d: { code, message, at: Date.now() } });
  }

  async #fail(job: Job, code: ErrorCode, message: string): Promise<void> {
    const parsed = AnswerJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    await this.#finishError(parsed.data, code, message).catch((error: unknown) =>
      this.#log.error({ jobId: job.id, err: (error as Error).message }, "could not publish failure reply"),
    );
  }
}
