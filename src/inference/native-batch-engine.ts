import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import {
  type ChatMessage,
  type Engine,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  messagesOf,
  type PromptTokenCount,
  type RawPromptRequest,
  type StopReason,
} from "./engine.ts";

/** Settings of the native batched engine; they come from `config.llm`. */
export interface NativeBatchEngineOptions {
  /** The batch-engine executable (src/inference/native/build.sh builds it). */
  binPath: string;
  modelPath: string;
  /** False keeps every layer on the CPU; otherwise all layers are offloaded when the build has a GPU. */
  gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
  threads: number;
  /** Tokens of context per sequence (prompt and answer together). */
  contextSize: number;
  /** Generations decoded together in each step. */
  sequences: number;
  /** Tokens per decode step (one per running sequence plus prompt chunks). @defaultValue 512 */
  batchSize?: number;
  /** Never sample an end-of-generation token (benchmarks and tests). @defaultValue false */
  ignoreEos?: boolean;
  /**
   * One KV buffer for all sequences (llama.cpp's kv_unified). Off, each sequence gets its own KV stream,
   * so attention and its mask span only that sequence's cells. @defaultValue false
   */
  kvUnified?: boolean;
  /**
   * A finished sequence keeps its KV cells; a new prompt starts from the longest prefix that any sequence
   * holds (copied into a free one if need be) and decodes only the rest. @defaultValue true
   */
  prefixCache?: boolean;
  /** How long the model may take to load. @defaultValue 120000 */
  loadTimeoutMs?: number;
}

/** A line batch-engine writes to stdout (see src/inference/native/batch-engine.cpp). */
interface EngineLine {
  ready?: boolean;
  protocol?: number;
  fatal?: string;
  id?: string;
  piece?: string;
  done?: boolean;
  reason?: string;
  tokens?: number;
  prompt_tokens?: number;
  control_tokens?: number;
  cached?: number;
  error?: string;
  /** Why a request was refused: context_overflow, bad_request (absent: a failure while generating). */
  code?: string;
}

interface PendingCount {
  resolve: (count: PromptTokenCount) => void;
  reject: (error: Error) => void;
}

interface Pending {
  text: string;
  onText: (chunk: string) => void;
  resolve: (result: GenerateResult) => void;
  reject: (error: Error) => void;
}

/** batch-engine's protocol version (kProtocolVersion in src/inference/native/protocol.hpp). */
const PROTOCOL_VERSION = 2;

const loadError = (what: string, reason: string, cause?: unknown) =>
  new GatewayError(ErrorCode.ModelLoadFailed, `cannot start the native engine (${what}): ${reason}`, {
    cause,
  });

/** The prompt part of a request line: messages for the chat template, or a raw prompt. */
function promptOf(request: GenerateRequest): { messages: ChatMessage[] } | { prompt: string } {
  const messages = messagesOf(request);
  return messages ? { messages } : { prompt: (request as RawPromptRequest).rawPrompt };
}

/** batch-engine's error codes (the `code` of an error line), mapped to ours. */
const errorCodes: Record<string, ErrorCode> = {
  context_overflow: ErrorCode.ContextOverflow,
  bad_request: ErrorCode.BadRequest,
};

const requestError = (error: string, code?: string) => {
  const known = code === undefined ? undefined : errorCodes[code];
  return known
    ? new GatewayError(known, error)
    : new GatewayError(ErrorCode.InferenceFailed, `generation failed: ${error}`);
};

const stopReasons: Record<string, StopReason> = {
  eos: "eos",
  max_tokens: "max_tokens",
  stop: "stop",
  aborted: "aborted",
};

/**
 * An Engine backed by one batch-engine process: llama.cpp's own continuous-batching loop in native
 * code (one llama_decode per step carrying one token of every running generation), so that no
 * JavaScript runs between decodes. Requests and tokens travel as JSON lines over the process's stdin and
 * stdout; the process renders the messages with the model's chat template. `capacity` is the process's
 * sequence count; requests beyond it wait inside the process.
 */
export class NativeBatchEngine implements Engine {
  readonly description: string;
  readonly capacity: number;
  private readonly pending = new Map<string, Pending>();
  private readonly counts = new Map<string, PendingCount>();
  private nextId = 0;
  private closing = false;
  private exited: Promise<void>;
  private failure: Error | undefined;
  private readonly ignoreEos: boolean;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    options: NativeBatchEngineOptions,
    private readonly stderrTail: () => string,
    private readonly logger: Logger,
  ) {
    this.capacity = options.sequences;
    this.ignoreEos = options.ignoreEos ?? false;
    // Writing to a process that just died raises EPIPE here; the exit handler reports the failure.
    child.stdin.on("error", () => undefined);
    this.description = `native: ${basename(options.modelPath)}, ${options.sequences} sequences, ${options.gpu === false ? "cpu" : "gpu layers offloaded"}`;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.once("exit", (code, signal) => {
      if (!this.closing) {
        this.failure = new GatewayError(
          ErrorCode.InferenceFailed,
          `the native engine exited (code ${code}, signal ${signal}): ${this.stderrTail()}`,
        );
        this.logger.error({ code, signal }, "the native engine exited");
      }
      const stopped = this.failure ?? new Error("the native engine stopped");
      for (const p of [...this.pending.values(), ...this.counts.values()]) p.reject(stopped);
      this.pending.clear();
      this.counts.clear();
    });
  }

  /**
   * Starts the process and waits until its model is loaded.
   * @throws GatewayError `model_load_failed` when the executable or the model is missing, or the load fails
   */
  static async load(options: NativeBatchEngineOptions, logger: Logger): Promise<NativeBatchEngine> {
    const log = logger.child({ component: "native-engine" });
    try {
      await access(options.binPath, constants.X_OK);
    } catch (error) {
      throw loadError(
        options.binPath,
        "no executable there: build it with `bash src/inference/native/build.sh` (or `... build.sh cuda`) and set NATIVE_ENGINE_BIN",
        error,
      );
    }
    try {
      if (!(await stat(options.modelPath)).isFile()) throw new Error("not a file");
    } catch (error) {
      throw loadError(
        options.modelPath,
        "model file not found (set MODEL_PATH to an existing .gguf file)",
        error,
      );
    }
    const started = performance.now();
    const args = [
      ...["--model", options.modelPath, "--sequences", String(options.sequences)],
      ...["--ctx-per-seq", String(options.contextSize), "--threads", String(options.threads)],
      ...["--ngl", options.gpu === false ? "0" : "999", "--batch", String(options.batchSize ?? 512)],
      ...["--kv-unified", options.kvUnified ? "1" : "0"],
      ...["--prefix-cache", options.prefixCache === false ? "0" : "1"],
    ];
    const child = spawn(options.binPath, args, { stdio: ["pipe", "pipe", "pipe"] });
    // llama.cpp logs to stderr; the last part explains a failed load or a crash.
    let tail = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      tail = (tail + chunk).slice(-2000);
    });
    const stderrTail = () => tail.trim().split("\n").slice(-5).join(" | ");
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<EngineLine>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("model load timed out")),
        options.loadTimeoutMs ?? 120_000,
      );
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        lines.off("line", onLine);
        child.off("exit", onExit);
        child.off("error", onError);
        fn();
      };
      const onLine = (line: string) => {
        if (!line.startsWith("{")) return;
        const parsed = JSON.parse(line) as EngineLine;
        if (parsed.ready || parsed.fatal) settle(() => resolve(parsed));
      };
      const onExit = (code: number | null) =>
        settle(() => reject(new Error(`exited with code ${code}: ${stderrTail()}`)));
      const onError = (error: Error) => settle(() => reject(error));
      lines.on("line", onLine);
      child.once("exit", onExit);
      child.once("error", onError);
    }).catch((error: Error) => {
      child.kill("SIGKILL");
      throw loadError(options.modelPath, error.message, error);
    });
    if (ready.fatal) {
      child.kill("SIGKILL");
      throw loadError(options.modelPath, `${ready.fatal}: ${stderrTail()}`);
    }
    if (ready.protocol !== PROTOCOL_VERSION) {
      child.kill("SIGKILL");
      throw loadError(
        options.binPath,
        `it speaks protocol ${ready.protocol ?? 1}, this code needs ${PROTOCOL_VERSION}: it was built from older sources; rebuild it with \`bash src/inference/native/build.sh\``,
      );
    }
    const engine = new NativeBatchEngine(child, options, stderrTail, log);
    lines.on("line", (line) => engine.onLine(line));
    log.info(
      {
        model: basename(options.modelPath),
        sequences: options.sequences,
        ms: Math.round(performance.now() - started),
      },
      "native engine ready",
    );
    return engine;
  }

  async generate(request: GenerateRequest, { signal, onText }: GenerateOptions): Promise<GenerateResult> {
    if (this.failure) throw this.failure;
    if (this.closing)
      throw new GatewayError(ErrorCode.ModelUnavailable, "the native engine is shutting down");
    if (signal.aborted) return { text: "", stopReason: "aborted", tokens: 0 };
    const id = this.newId();
    const line = JSON.stringify({
      id,
      ...promptOf(request),
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      ...(request.seed !== undefined ? { seed: request.seed >>> 0 } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      ...(request.jsonSchema ? { json_schema: request.jsonSchema } : {}),
      ignore_eos: this.ignoreEos,
    });
    const cancel = () => this.child.stdin.write(`${JSON.stringify({ cancel: id })}\n`);
    const result = new Promise<GenerateResult>((resolve, reject) => {
      this.pending.set(id, { text: "", onText, resolve, reject });
    });
    signal.addEventListener("abort", cancel, { once: true });
    this.child.stdin.write(`${line}\n`);
    try {
      return await result;
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }

  async countTokens(request: GenerateRequest): Promise<PromptTokenCount> {
    if (this.failure) throw this.failure;
    if (this.closing)
      throw new GatewayError(ErrorCode.ModelUnavailable, "the native engine is shutting down");
    const id = this.newId();
    const counted = new Promise<PromptTokenCount>((resolve, reject) => {
      this.counts.set(id, { resolve, reject });
    });
    this.child.stdin.write(`${JSON.stringify({ id, tokenize: true, ...promptOf(request) })}\n`);
    return counted;
  }

  private newId(): string {
    this.nextId += 1;
    return `g${this.nextId}`;
  }

  private onLine(line: string): void {
    if (!line.startsWith("{")) return;
    let message: EngineLine;
    try {
      message = JSON.parse(line) as EngineLine;
    } catch {
      this.logger.warn("the native engine wrote a line that is not JSON");
      return;
    }
    const count = message.id === undefined ? undefined : this.counts.get(message.id);
    if (count && message.id !== undefined) {
      this.counts.delete(message.id);
      if (message.error !== undefined) count.reject(requestError(message.error, message.code));
      else count.resolve({ tokens: message.prompt_tokens ?? 0, controlTokens: message.control_tokens ?? 0 });
      return;
    }
    const pending = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!pending || message.id === undefined) {
      if (message.error) this.logger.warn({ err: message.error }, "the native engine refused a line");
      return;
    }
    if (message.piece !== undefined) {
      pending.text += message.piece;
      pending.onText(message.piece);
    } else if (message.done) {
      this.pending.delete(message.id);
      pending.resolve({
        text: pending.text,
        stopReason: stopReasons[message.reason ?? ""] ?? "eos",
        tokens: message.tokens ?? 0,
        ...(message.prompt_tokens !== undefined ? { promptTokens: message.prompt_tokens } : {}),
        ...(message.cached !== undefined ? { cachedPromptTokens: message.cached } : {}),
      });
    } else if (message.error !== undefined) {
      this.pending.delete(message.id);
      pending.reject(requestError(message.error, message.code));
    }
  }

  /** Lets running generations finish, then ends the process (closing its stdin). */
  async close(): Promise<void> {
    if (this.closing) return;
    const inFlight = [...this.pending.values()].map(
      (p) =>
        new Promise<void>((resolve) => {
          const { resolve: done, reject } = p;
          p.resolve = (r) => {
            done(r);
            resolve();
          };
          p.reject = (e) => {
            reject(e);
            resolve();
          };
        }),
    );
    this.closing = true;
    await Promise.all(inFlight);
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
