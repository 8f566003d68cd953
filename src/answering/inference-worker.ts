import { DelayedError, type Job, type Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { ContextStore } from "../conversation/context-store.ts";
import type { AnswerKind } from "../conversation/conversations.ts";
import { buildPrompt, citationsUsed, NO_ANSWER_TEXT } from "../conversation/prompt-builder.ts";
import type { Turn } from "../conversation/turn.ts";
import { ErrorCode } from "../errors.ts";
import type { Engine } from "../inference/engine.ts";
import type { Snippet } from "../knowledge/citation.ts";
import { composeExcerptAnswer } from "../knowledge/excerpt-answer.ts";
import type { Logger } from "../logger.ts";
import type { Keyspace } from "../redis/keyspace.ts";
import { type AnswerJob, AnswerJobSchema, seedFor } from "./answer-job.ts";
import type { AnswerLedger, MessageRecord } from "./answer-ledger.ts";
import { UNAVAILABLE_TEXT } from "./queue-wait.ts";
import { ReplyWriter } from "./reply-stream.ts";

export const NO_MODEL_TEXT =
  "No language model is configured on this service yet, and no help article matched your question. " +
  "Would you like me to connect you with a person?";

export interface InferenceWorkerOptions {
  queueName: string;
  /** BullMQ key prefix. */
  bullPrefix: string;
  /** A connection for BullMQ (created with `blocking: true`). */
  connection: Redis;
  /** The answer queue, to tell a predecessor that is merely waiting from one that was never enqueued. */
  queue: Queue;
  /** A plain connection for reply streams and the ledger. */
  redis: Redis;
  keys: Keyspace;
  ledger: AnswerLedger;
  contextStore: ContextStore;
  /** Without an engine the worker answers from snippets alone (retrieval-only mode). */
  engine?: Engine;
  logger: Logger;
  maxAnswerTokens: number;
  temperature: number;
  answerTimeoutMs: number;
  /** QUEUE_WAIT_MS: a message first picked up later than this after it was accepted is not answered. */
  queueWaitMs?: number;
  /** Counts messages ended because they waited too long. */
  onExpired?: () => void;
  lockMs: number;
  stalledIntervalMs: number;
  /** Concurrency when there is no engine (excerpt answers are cheap). @defaultValue 16 */
  excerptConcurrency?: number;
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
    return this.#o.engine?.capacity ?? this.#o.excerptConcurrency ?? 16;
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
      this.#log.error({ jobId: job.id }, "job data does not match AnswerJob v1; failing it");
      await this.#fail(job, ErrorCode.Internal, "Sorry, this message could not be processed.");
      return { kind: "invalid" };
    }
    const data = parsed.data;
    const { ledger } = this.#o;
    const record = await ledger.record(data.messageId);
    if (record?.state === "done") {
      // Finished, but perhaps by a worker that died before appending its turn: make sure it is kept.
      if (record.turn) await this.#o.contextStore.append(data.conversation, record.turn);
      return { kind: "already-done" };
    }
    if (record?.cancelled) {
      await this.#finishError(data, ErrorCode.Cancelled, "The answer was cancelled.");
      return { kind: "cancelled" };
    }
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
    if (data.previousMessageId) {
      const prev = await ledger.record(data.previousMessageId);
      if (prev !== undefined && prev.state !== "done" && !(await this.#lost(data.previousMessageId, prev))) {
        await job.moveToDelayed(Date.now() + ORDER_RECHECK_MS, token);
        throw new DelayedError();
      }
      return this.#answer(job, data, token, prev?.turn);
    }
    return this.#answer(job, data, token);
  }

  /**
   * A predecessor claimed but never enqueued (its gateway died between the two steps) must not block
   * the conversation forever: after a while without a job it is skipped.
   */
  async #lost(messageId: string, record: MessageRecord): Promise<boolean> {
    if (record.state !== "queued" || Date.now() - record.acceptedAt < LOST_AFTER_MS) return false;
    return (await this.#o.queue.getJobState(messageId)) === "unknown";
  }

  /** @param previousTurn the turn the conversation's previous message made, which the prompt must include. */
  async #answer(job: Job, data: AnswerJob, token?: string, previousTurn?: Turn): Promise<{ kind: string }> {
    const o = this.#o;
    const attempt = await o.ledger.beginAttempt(data.messageId);
    const writer = new ReplyWriter({ redis: o.redis, keys: o.keys, messageId: data.messageId, attempt });
    writer.start();
    const controller = new AbortController();
    this.#controllers.set(data.messageId, controller);
    const timer = setTimeout(() => controller.abort("timeout"), o.answerTimeoutMs);
    try {
      let text: string;
      let kind: AnswerKind;
      let tokens = 0;
      let citations = data.snippets.map((s) => s.citation);
      if (data.knowledgeReady && data.snippets.length === 0) {
        [text, kind, citations] = [NO_ANSWER_TEXT, "no_answer", []];
        writer.token(text);
      } else if (!o.engine) {
        [text, kind] =
          data.snippets.length > 0
            ? [composeExcerptAnswer(data.snippets), "excerpt"]
            : [NO_MODEL_TEXT, "no_model"];
        // The excerpt quotes only its best sources and marks them [n]: cite those, not every snippet.
        citations = citationsUsed(text, data.snippets);
        writer.token(text);
      } else {
        const result = await this.#generate(data, data.snippets, writer, controller.signal, previousTurn);
        if (controller.signal.aborted) {
          await writer.flush();
          const reason = controller.signal.reason;
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
        [text, kind, tokens] = [result.text.trim(), "answer", result.tokens];
        // How much of the prompt the engine took from its prefix cache (ENGINE=native says so).
        this.#log.debug(
          {
            jobId: job.id,
            tokens,
            promptTokens: result.promptTokens,
            cachedPromptTokens: result.cachedPromptTokens,
          },
          "answer generated",
        );
        citations = citationsUsed(text, data.snippets);
      }
      await writer.flush();
      const at = Date.now();
      const turn = {
        id: data.messageId,
        question: data.question,
        answer: text,
        citations,
        at,
        userId: data.userId,
      };
      if (
        await o.ledger.finish(data.messageId, { t: "final", d: { text, citations, kind, tokens, at } }, turn)
      ) {
        await o.contextStore.append(data.conversation, turn);
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
      if (job.attemptsMade + 1 >= attempts) {
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

  async #generate(
    data: AnswerJob,
    snippets: Snippet[],
    writer: ReplyWriter,
    signal: AbortSignal,
    previousTurn?: Turn,
  ) {
    const o = this.#o;
    const engine = o.engine as Engine;
    let history = await o.contextStore.load(data.conversation);
    // The previous message's worker appends its turn right after finishing; in the moment between (or
    // if it died there) the turn is missing, and this answer appends it (the append is idempotent).
    if (previousTurn && !history.some((t) => t.id === previousTurn.id)) {
      await o.contextStore.append(data.conversation, previousTurn);
      history = await o.contextStore.load(data.conversation);
    }
    const prompt = buildPrompt({ question: data.question, snippets, history });
    return engine.generate(
      { ...prompt, maxTokens: o.maxAnswerTokens, temperature: o.temperature, seed: seedFor(data.messageId) },
      { signal, onText: (chunk) => writer.token(chunk) },
    );
  }

  async #finishError(data: AnswerJob, code: ErrorCode, message: string): Promise<void> {
    await this.#o.ledger.finish(data.messageId, {
      t: "error",
      d: { code, message, at: Date.now() },
    });
  }

  async #fail(job: Job, code: ErrorCode, message: string): Promise<void> {
    const parsed = AnswerJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    await this.#finishError(parsed.data, code, message).catch((error: unknown) =>
      this.#log.error({ jobId: job.id, err: (error as Error).message }, "could not publish failure reply"),
    );
  }
}
