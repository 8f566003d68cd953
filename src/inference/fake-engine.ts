import { ErrorCode, GatewayError } from "../errors.ts";
import {
  type Engine,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  messagesOf,
  type PromptTokenCount,
  type StopReason,
} from "./engine.ts";
import { sampleJson } from "./fake-json.ts";
import { SequencePool } from "./sequence-pool.ts";
import { StopMatcher } from "./stop-matcher.ts";

/**
 * A deterministic Engine with no model, for fast tests of everything above the port and for load tests
 * of the service itself (ENGINE=fake): the answer is filler derived from the seed and the prompt, emitted
 * at a fixed pace. It keeps the port's whole contract (test/contract/engine-contract.ts): streaming,
 * stop reasons, abort, maxTokens, stop strings, JSON Schema output, capacity with queueing, token counts,
 * context overflow, close.
 */

/** What the FakeEngine waits with; tests inject one they advance by hand. */
export interface FakeEngineTimer {
  /** Resolves after `ms` milliseconds, or early once the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** Real time: setTimeout, or the next event-loop turn for 0 ms (so that generations interleave). */
export const realTimer: FakeEngineTimer = {
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        if (timer) clearTimeout(timer);
        if (immediate) clearImmediate(immediate);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
      const immediate = ms > 0 ? undefined : setImmediate(done);
      signal.addEventListener("abort", done, { once: true });
    }),
};

export interface FakeEngineOptions {
  /** Generations at once; more wait for a free slot. @defaultValue 4 */
  capacity?: number;
  /** Milliseconds between two tokens. @defaultValue 0 */
  tokenMs?: number;
  /** Milliseconds before the first token (prefill). @defaultValue tokenMs */
  firstTokenMs?: number;
  /** Tokens per slot, prompt and answer together. @defaultValue 4096 */
  contextSize?: number;
  /** Never end before maxTokens (as LLM_IGNORE_EOS does for the real engines). @defaultValue false */
  ignoreEos?: boolean;
  /** @defaultValue realTimer */
  timer?: FakeEngineTimer;
}

const WORDS = [
  "the",
  "answer",
  "is",
  "in",
  "your",
  "account",
  "settings",
  "page",
  "under",
  "billing",
  "and",
  "you",
  "can",
  "change",
  "it",
  "there",
  "at",
  "any",
  "time",
  "support",
  "team",
  "will",
  "help",
  "order",
];

/** FNV-1a over a string: the same request, the same text. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small deterministic generator in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = (text: string) => text.split(/\s+/).filter((w) => w.length > 0).length;

export class FakeEngine implements Engine {
  readonly description: string;
  readonly capacity: number;
  private readonly tokenMs: number;
  private readonly firstTokenMs: number;
  private readonly contextSize: number;
  private readonly ignoreEos: boolean;
  private readonly timer: FakeEngineTimer;
  private readonly pool: SequencePool<number>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor({
    capacity = 4,
    tokenMs = 0,
    firstTokenMs = tokenMs,
    contextSize = 4096,
    ignoreEos = false,
    timer = realTimer,
  }: FakeEngineOptions = {}) {
    this.capacity = capacity;
    this.tokenMs = tokenMs;
    this.firstTokenMs = firstTokenMs;
    this.contextSize = contextSize;
    this.ignoreEos = ignoreEos;
    this.timer = timer;
    this.pool = new SequencePool(
      Array.from({ length: capacity }, (_, i) => i),
      async () => undefined,
    );
    this.description = `fake: ${capacity} sequences, ${tokenMs} ms per token (${firstTokenMs} to the first)`;
  }

  /**
   * One token per word of each content, plus the template's control tokens: BOS, then an opening and a
   * closing marker and a role token per message, and the answer's opening marker and role.
   */
  async countTokens(request: GenerateRequest): Promise<PromptTokenCount> {
    const messages = messagesOf(request);
    if (!messages)
      return { tokens: 1 + words((request as { rawPrompt: string }).rawPrompt), controlTokens: 1 };
    const controlTokens = 1 + 2 * messages.length + 1;
    const text = messages.reduce((sum, m) => sum + 1 + words(m.content), 0);
    return { tokens: controlTokens + text + 1, controlTokens };
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

  private async run(request: GenerateRequest, { signal, onText }: GenerateOptions): Promise<GenerateResult> {
    if (this.closed) throw new GatewayError(ErrorCode.ModelUnavailable, "the fake engine is closed");
    const { tokens: promptTokens } = await this.countTokens(request);
    if (promptTokens >= this.contextSize) {
      throw new GatewayError(
        ErrorCode.ContextOverflow,
        `the prompt is ${promptTokens} tokens; a sequence holds ${this.contextSize} (prompt and answer together)`,
      );
    }
    const seed = hash(JSON.stringify(messagesOf(request) ?? request), request.seed ?? 0);
    const next = random(seed);
    // A JSON answer is its serialized value in pieces of up to four characters, then the end.
    const json = request.jsonSchema ? JSON.stringify(sampleJson(request.jsonSchema, next)) : undefined;
    const pieces = json?.match(/[\s\S]{1,4}/g) ?? [];
    const natural = json ? pieces.length : 8 + (seed % 56);
    const maxTokens = Math.min(request.maxTokens, this.contextSize - promptTokens);
    let slot: number;
    try {
      slot = await this.pool.acquire(signal);
    } catch (error) {
      if (signal.aborted) return { text: "", stopReason: "aborted", tokens: 0, promptTokens };
      throw error;
    }
    const matcher = new StopMatcher(request.stop ?? []);
    let text = "";
    let tokens = 0;
    let stopReason: StopReason = "max_tokens";
    try {
      await this.timer.sleep(this.firstTokenMs, signal);
      while (tokens < maxTokens) {
        if (signal.aborted) {
          stopReason = "aborted";
          break;
        }
        if (tokens >= natural && (json || !this.ignoreEos)) {
          stopReason = "eos";
          break;
        }
        const piece = json
          ? (pieces[tokens] ?? "")
          : `${tokens === 0 ? "" : " "}${WORDS[Math.floor(next() * WORDS.length)]}`;
        tokens += 1;
        const out = matcher.push(piece);
        if (out) {
          text += out;
          onText(out);
        }
        if (matcher.matched !== undefined) {
          stopReason = "stop";
          break;
        }
        if (tokens < maxTokens) await this.timer.sleep(this.tokenMs, signal);
      }
      if (matcher.matched === undefined) {
        const rest = matcher.flush();
        if (rest) {
          text += rest;
          onText(rest);
        }
      }
      return { text, stopReason, tokens, promptTokens };
    } finally {
      await this.pool.release(slot);
    }
  }

  /** Refuses new work and fails queued generations; running ones finish. */
  async close(): Promise<void> {
    this.closed = true;
    this.pool.close();
    await Promise.allSettled([...this.inFlight]);
  }
}
