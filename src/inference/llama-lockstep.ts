import {
  type LlamaContextSequence,
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  type Token,
  type TokenBias,
} from "node-llama-cpp";
import type { GenerateOptions, GenerateRequest, GenerateResult } from "./engine.ts";
import { StopMatcher } from "./stop-matcher.ts";

/**
 * Why lockstep: node-llama-cpp samples every sequence of a decode step on the thread pool and resolves
 * each one as its sampling finishes; its dispatch loop starts the next decode with whichever sequences
 * have already queued their next token. Measured on an H100 with 32 generations, each decode then
 * carried only ~16 sequences: two cohorts alternating, each waiting for the other's decode. Here every
 * generation submits its next step to a barrier, and the barrier hands all steps to node-llama-cpp in
 * the same tick once every registered generation has submitted, so each decode carries all of them.
 */

interface PendingStep {
  advance: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects one step from every registered generation, then starts them all in the same tick. A step
 * is the generation's `next()` on node-llama-cpp's `sequence.evaluate()` generator, which queues that
 * sequence's next decode (one sampler per generation: creating one per step cost ~0.1 ms each on the
 * main thread, measured).
 */
export class LockstepBarrier {
  private readonly registered = new Set<number>();
  private readonly pending = new Map<number, PendingStep>();
  private nextId = 0;

  /** Joins the barrier; the returned id is used for every step and for `leave`. */
  join(): number {
    const id = this.nextId++;
    this.registered.add(id);
    return id;
  }

  /** Leaves the barrier (after the generation's last step); may release the others' steps. */
  leave(id: number): void {
    this.registered.delete(id);
    this.pending.delete(id);
    this.flushIfComplete();
  }

  /** Runs `advance` together with every other registered generation's step. */
  step<T>(id: number, advance: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { advance, resolve: resolve as (value: unknown) => void, reject });
      this.flushIfComplete();
    });
  }

  private flushIfComplete(): void {
    if (this.pending.size === 0 || this.pending.size < this.registered.size) return;
    const steps = [...this.pending.values()];
    this.pending.clear();
    // All steps start in this tick, so node-llama-cpp queues their decodes into one batch.
    for (const step of steps) step.advance().then(step.resolve, step.reject);
  }
}

export interface LockstepContext {
  model: LlamaModel;
  barrier: LockstepBarrier;
  tokenBias: TokenBias | undefined;
}

/** The texts that end a grammar's output (node-llama-cpp's JSON grammars: four newlines). */
function grammarStops(grammar: LlamaGrammar): string[] {
  return grammar.stopGenerationTriggers.map((trigger) =>
    Array.isArray(trigger) ? trigger.filter((t) => typeof t === "string").join("") : String(trigger),
  );
}

/**
 * Generates on a cleared sequence through the barrier. The caller checks that the prompt plus
 * `maxTokens` fits the sequence (no context shift happens here). With a grammar, the answer ends where the
 * grammar is complete (its stop text, not part of the answer, reports "eos").
 */
export async function generateLockstep(
  ctx: LockstepContext,
  sequence: LlamaContextSequence,
  prompt: Token[],
  request: GenerateRequest,
  { signal, onText }: GenerateOptions,
  grammar?: LlamaGrammar,
): Promise<GenerateResult> {
  const { model, barrier } = ctx;
  const requestStops = request.stop ?? [];
  const matcher = new StopMatcher([...requestStops, ...(grammar ? grammarStops(grammar) : [])]);
  let text = "";
  let tokens = 0;
  let undecoded: Token[] = [];
  let recent: Token[] = [];
  const pass = (piece: string) => {
    if (piece.length === 0) return;
    text += piece;
    onText(piece);
  };
  const emit = (force: boolean) => {
    if (undecoded.length === 0) return;
    const piece = model.detokenize(undecoded, false, recent);
    // A multi-byte character can span tokens: hold its first bytes back until it is complete.
    if (!force && piece.endsWith("\uFFFD")) return;
    recent = [...recent, ...undecoded].slice(-8);
    undecoded = [];
    pass(matcher.push(piece));
  };

  let stopReason: GenerateResult["stopReason"] = "max_tokens";
  const generator = sequence.evaluate(prompt, {
    temperature: request.temperature,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.topP === undefined ? {} : { topP: request.topP }),
    // A grammar decides where the answer ends; a bias against ending could leave it no token to pick.
    ...(ctx.tokenBias && !grammar ? { tokenBias: ctx.tokenBias } : {}),
    ...(grammar ? { grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) } : {}),
  });
  const id = barrier.join();
  try {
    while (tokens < request.maxTokens) {
      if (signal.aborted) {
        stopReason = "aborted";
        break;
      }
      const next = await barrier.step(id, () => generator.next());
      // The generator ends by itself on an end-of-generation token.
      if (next.done || model.isEogToken(next.value)) {
        stopReason = "eos";
        break;
      }
      tokens += 1;
      undecoded.push(next.value);
      emit(false);
      if (matcher.matched !== undefined) {
        stopReason = requestStops.includes(matcher.matched) ? "stop" : "eos";
        break;
      }
    }
  } finally {
    barrier.leave(id);
    await generator.return();
  }
  if (matcher.matched === undefined) {
    emit(true);
    const rest = matcher.flush();
    pass(grammar?.trimWhitespaceSuffix ? rest.trimEnd() : rest);
  }
  if (stopReason === "max_tokens" && signal.aborted) stopReason = "aborted";
  return { text, stopReason, tokens, promptTokens: prompt.length };
}
