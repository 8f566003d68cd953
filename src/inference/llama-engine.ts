import { stat } from "node:fs/promises";
import { basename } from "node:path";
import {
  type ChatWrapper,
  getLlama,
  type Llama,
  LlamaChatSession,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  resolveChatWrapper,
  type TokenBias,
} from "node-llama-cpp";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type {
  ChatTurnsRequest,
  Engine,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  PromptTokenCount,
  StopReason,
} from "./engine.ts";
import { type BatchOrderStats, LlamaBatching } from "./llama-batching.ts";
import { LlamaGrammars } from "./llama-grammar.ts";
import { checkLlamaInternals, neverEndBias } from "./llama-internals.ts";
import { generateLockstep, LockstepBarrier, type LockstepContext } from "./llama-lockstep.ts";
import { chatHistoryOf, promptTokens } from "./llama-prompt.ts";
import { SequencePool } from "./sequence-pool.ts";

/** Settings of the node-llama-cpp engine; the first six come from `config.llm`. */
export interface LlamaEngineOptions {
  modelPath: string;
  /** Compute backend; false forces the CPU. */
  gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
  /** CPU threads for evaluation (the default of all cores is ruinous on small machines). */
  threads: number;
  /** Tokens of context per sequence (system prompt, sources, history and answer together). */
  contextSize: number;
  /** Generations that run at once, batched into the same decode calls. */
  sequences: number;
  /** Tokens per decode call. @defaultValue node-llama-cpp's (the context size) */
  batchSize?: number;
  /**
   * Never sample an end-of-generation token, so that every answer runs to `maxTokens` (llama.cpp's
   * `--ignore-eos`). For benchmarks and tests that need a known length. @defaultValue false
   */
  ignoreEos?: boolean;
  /** Flash attention; "auto" lets llama.cpp decide per backend. @defaultValue "auto" */
  flashAttention?: boolean | "auto";
  /**
   * Order of the decodes inside each batch: "sequence" (by sequence id, one llama.cpp micro-batch per
   * step) or "arrival" (node-llama-cpp's own order, one micro-batch per break in the ids; for
   * comparison in benchmarks). @defaultValue "sequence"
   */
  batchOrder?: "sequence" | "arrival";
  /**
   * Longest wait (ms) for all generating sequences to join a decode step; 0 is node-llama-cpp's
   * next-event-loop-turn dispatch. @defaultValue 0
   */
  batchGatherMs?: number;
  /**
   * How generations drive the context: "lockstep" (every decode step carries every running generation;
   * see llama-lockstep.ts) or "session" (one LlamaChatSession per support answer, each stepping on its
   * own, for comparison in benchmarks; message lists and raw prompts still step alone through
   * llama-lockstep.ts). @defaultValue "lockstep"
   */
  scheduler?: "lockstep" | "session";
}

/** llama.cpp's stop reasons, as node-llama-cpp reports them, mapped to the Engine's. */
function stopReasonOf(reason: string): StopReason {
  if (reason === "maxTokens") return "max_tokens";
  if (reason === "abort") return "aborted";
  if (reason === "customStopTrigger") return "stop";
  return "eos";
}

const closedError = () =>
  new GatewayError(ErrorCode.ModelUnavailable, "the engine is closed; restart the worker to load the model");

const loadError = (path: string, reason: string, cause?: unknown) =>
  new GatewayError(ErrorCode.ModelLoadFailed, `cannot load model ${path}: ${reason}`, { cause });

/**
 * The default Engine: one node-llama-cpp context with `sequences` parallel sequences, so that
 * concurrent generations share each decode call. A pool lends one sequence per generation.
 */
export class LlamaEngine implements Engine {
  readonly description: string;
  readonly capacity: number;
  private readonly pool: SequencePool<LlamaContextSequence>;
  private readonly tokenBias: TokenBias | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly lockstep: LockstepContext | undefined;
  private readonly grammars: LlamaGrammars;
  private readonly contextSize: number;
  private closed = false;

  private constructor(
    private readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly chatWrapper: ChatWrapper,
    options: LlamaEngineOptions,
    private readonly logger: Logger,
    private readonly batching: LlamaBatching,
  ) {
    const sequences: LlamaContextSequence[] = [];
    while (context.sequencesLeft > 0) sequences.push(context.getSequence());
    this.pool = new SequencePool(
      sequences,
      (sequence) => sequence.clearHistory(),
      (error) => this.logger.warn({ err: error }, "could not clear a context sequence"),
    );
    this.capacity = sequences.length;
    const backend = llama.gpu === false ? "cpu" : llama.gpu;
    this.description = `llama: ${basename(options.modelPath)}, ${this.capacity} sequences, ${backend}`;
    if (options.ignoreEos) this.tokenBias = neverEndBias(model);
    if ((options.scheduler ?? "lockstep") === "lockstep") {
      this.lockstep = { model, barrier: new LockstepBarrier(), tokenBias: this.tokenBias };
    }
    this.grammars = new LlamaGrammars(llama);
    this.contextSize = context.contextSize;
  }

  /**
   * Loads the model and creates its context.
   * @throws GatewayError `model_load_failed` when the file is missing, unreadable or not a usable GGUF
   */
  static async load(options: LlamaEngineOptions, logger: Logger): Promise<LlamaEngine> {
    const log = logger.child({ component: "llama-engine" });
    const path = options.modelPath;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw loadError(path, "not a file (set MODEL_PATH to a .gguf file)");
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw loadError(path, "file not found (set MODEL_PATH to an existing .gguf file)", error);
    }
    const started = performance.now();
    // build "never": a missing prebuilt binary must fail fast, not start a from-source build.
    const llama = await getLlama({ build: "never", gpu: options.gpu, maxThreads: options.threads });
    let model: LlamaModel | undefined;
    try {
      model = await llama.loadModel({ modelPath: path });
      const engineRef: { engine?: LlamaEngine } = {};
      const batching = new LlamaBatching({
        order: options.batchOrder !== "arrival",
        gatherMs: options.batchGatherMs ?? 0,
        active: () => engineRef.engine?.busy ?? 0,
      });
      const context = await model.createContext({
        sequences: options.sequences,
        contextSize: options.contextSize,
        batchSize: options.batchSize,
        threads: options.threads,
        flashAttention: options.flashAttention ?? "auto",
        batching: batching.options,
      });
      batching.context = context;
      await checkLlamaInternals(context);
      // Resolving the wrapper reads the template and costs 100-500 ms: once per model, not per session.
      const chatWrapper = resolveChatWrapper(model);
      if (chatWrapper === null) throw new Error("no chat template the engine can use");
      const engine = new LlamaEngine(llama, model, context, chatWrapper, options, log, batching);
      engineRef.engine = engine;
      log.info(
        {
          model: basename(path),
          sequences: engine.capacity,
          gpu: llama.gpu,
          ms: Math.round(performance.now() - started),
        },
        "model loaded",
      );
      return engine;
    } catch (error) {
      await model?.dispose().catch(() => {});
      await llama.dispose().catch(() => {});
      if (error instanceof GatewayError && error.code === ErrorCode.LibraryIncompatible) throw error;
      throw loadError(path, (error as Error).message || String(error), error);
    }
  }

  /** How the batches were packed so far. */
  get batchStats(): Readonly<BatchOrderStats> {
    return this.batching.stats;
  }

  /** Generations holding a sequence now. */
  get busy(): number {
    return this.pool.size - this.pool.available;
  }

  async generate(request: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
    const run = this.run(request, options);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  private async run(request: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
    const { signal } = options;
    if (this.closed) throw closedError();
    // Refusals come before waiting for a sequence: they do not depend on one.
    const prompt = promptTokens(this, request);
    if (prompt.length >= this.contextSize) {
      throw new GatewayError(
        ErrorCode.ContextOverflow,
        `the prompt is ${prompt.length} tokens; a sequence holds ${this.contextSize} (prompt and answer together)`,
      );
    }
    const grammar = request.jsonSchema ? await this.grammars.get(request.jsonSchema) : undefined;
    // The answer may not run past the sequence's end (no context shift; the native engine does the same).
    const bounded = { ...request, maxTokens: Math.min(request.maxTokens, this.contextSize - prompt.length) };
    let sequence: LlamaContextSequence;
    try {
      sequence = await this.pool.acquire(signal);
    } catch (error) {
      if (signal.aborted) return { text: "", stopReason: "aborted", tokens: 0 };
      throw error;
    }
    try {
      if (!this.lockstep && "prompt" in bounded) {
        return await this.generateInSession(sequence, bounded, prompt.length, options, grammar);
      }
      // Without the lockstep scheduler, a generation steps alone through a barrier of its own.
      const lockstep = this.lockstep ?? {
        model: this.model,
        barrier: new LockstepBarrier(),
        tokenBias: this.tokenBias,
      };
      return await generateLockstep(lockstep, sequence, prompt, bounded, options, grammar);
    } catch (error) {
      if (signal.aborted) return { text: "", stopReason: "aborted", tokens: 0, promptTokens: prompt.length };
      throw new GatewayError(ErrorCode.InferenceFailed, `generation failed: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      await this.pool.release(sequence);
    }
  }

  /** One LlamaChatSession on the sequence: node-llama-cpp's own loop. */
  private async generateInSession(
    sequence: LlamaContextSequence,
    request: ChatTurnsRequest,
    promptLength: number,
    { signal, onText }: GenerateOptions,
    grammar: LlamaGrammar | undefined,
  ): Promise<GenerateResult> {
    const session = new LlamaChatSession({
      contextSequence: sequence,
      chatWrapper: this.chatWrapper,
      autoDisposeSequence: false,
    });
    // The sequence's meter counts one output per sampled token; node-llama-cpp's onToken can hold back a
    // token that might begin a stop trigger, so it undercounts.
    const outputBefore = sequence.tokenMeter.usedOutputTokens;
    try {
      // Everything but the new message and the answer's opening (chatHistoryOf's last two items).
      session.setChatHistory(chatHistoryOf(request).slice(0, -2));
      const result = await session.promptWithMeta(request.prompt, {
        maxTokens: request.maxTokens,
        temperature: request.temperature,
        seed: request.seed,
        ...(request.topP === undefined ? {} : { topP: request.topP }),
        ...(request.stop?.length ? { customStopTriggers: request.stop } : {}),
        ...(grammar ? { grammar } : { tokenBias: this.tokenBias }),
        onTextChunk: onText,
        signal,
        stopOnAbortSignal: true,
      });
      const tokens = sequence.tokenMeter.usedOutputTokens - outputBefore;
      return {
        text: result.responseText,
        stopReason: stopReasonOf(result.stopReason),
        tokens,
        promptTokens: promptLength,
      };
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  async countTokens(request: GenerateRequest): Promise<PromptTokenCount> {
    if (this.closed) throw closedError();
    const tokens = promptTokens(this, request);
    const controlTokens = tokens.filter((token) => this.model.getTokenAttributes(token).control).length;
    return { tokens: tokens.length, controlTokens };
  }

  /** Stops taking work, lets running generations finish, then frees the model. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    await Promise.allSettled([...this.inFlight]);
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
