import { getModuleVersion, type LlamaContext, type LlamaModel, type Token, TokenBias } from "node-llama-cpp";
import { ErrorCode, GatewayError } from "../errors.ts";

/**
 * The one file that reads node-llama-cpp internals, each marked `@internal` in the version this project
 * pins, where the public API has no equivalent:
 * - its batching API hands a custom prioritization strategy `BatchItem`s without their sequence ids, and
 *   a custom dispatch schedule no count of the sequences waiting, yet llama-batching.ts needs both:
 *   ordering a batch by sequence id (so llama.cpp runs it as one micro-batch) and dispatching once every
 *   generating sequence has queued (the context's `_queuedDecodes`, `_queuedDecodeSequenceIds`);
 * - `TokenBias.set()` refuses end-of-generation tokens (and a TokenBias must be built on the model's own
 *   tokenizer), yet llama.cpp's --ignore-eos is exactly a -inf bias on them (`TokenBias._biases`).
 * `checkLlamaInternals` runs when the engine loads, so that an upgrade that moves any of them fails at
 * start-up with a clear error rather than silently batching worse or ending answers early.
 */

/** The node-llama-cpp version whose internals this file reads (package.json pins it). */
export const PINNED_NODE_LLAMA_CPP = "3.22.1";

/** One entry of the context's decode queue, as far as it is read here. */
export interface QueuedDecode {
  sequenceId: number;
  /** The same array the strategy receives as `BatchItem.tokens`. */
  tokens: readonly number[];
}

interface ContextInternals {
  _queuedDecodes?: unknown;
  _queuedDecodeSequenceIds?: unknown;
}

const internals = (context: LlamaContext) => context as unknown as ContextInternals;

/**
 * Fails when the context lacks what this file reads.
 * @throws GatewayError `library_incompatible` naming the pinned and the installed version
 */
export async function checkLlamaInternals(context: LlamaContext): Promise<void> {
  const { _queuedDecodes: queue, _queuedDecodeSequenceIds: ids } = internals(context);
  const missing = [
    ...(Array.isArray(queue) ? [] : ["LlamaContext._queuedDecodes (an array)"]),
    ...(ids instanceof Set ? [] : ["LlamaContext._queuedDecodeSequenceIds (a Set)"]),
    ...(biasesOf(new TokenBias(context.model.tokenizer)) ? [] : ["TokenBias._biases (a Map)"]),
  ];
  if (missing.length === 0) return;
  const installed = await getModuleVersion().catch(() => "unknown");
  throw new GatewayError(
    ErrorCode.LibraryIncompatible,
    `node-llama-cpp ${installed} lacks ${missing.join(" and ")}, which src/inference/llama-internals.ts reads; ` +
      `this project is pinned to node-llama-cpp ${PINNED_NODE_LLAMA_CPP}: install that version, or update the shim`,
  );
}

/** The context's pending decodes, in the order they were queued (empty when unreadable). */
export function queuedDecodes(context: LlamaContext | undefined): readonly QueuedDecode[] {
  const queue = context ? internals(context)._queuedDecodes : undefined;
  return Array.isArray(queue) ? (queue as QueuedDecode[]) : [];
}

/** How many sequences have a decode waiting; undefined when unreadable. */
export function queuedSequenceCount(context: LlamaContext | undefined): number | undefined {
  const ids = context ? internals(context)._queuedDecodeSequenceIds : undefined;
  return ids instanceof Set ? ids.size : undefined;
}

function biasesOf(bias: TokenBias): Map<Token, number> | undefined {
  const biases = (bias as unknown as { _biases?: unknown })._biases;
  return biases instanceof Map ? (biases as Map<Token, number>) : undefined;
}

/**
 * A -inf bias on every end-of-generation token (EOS and the template's end of turn, ChatML's
 * <|im_end|>): llama.cpp's --ignore-eos, for benchmarks and tests that need answers of a known length.
 */
export function neverEndBias(model: LlamaModel): TokenBias {
  const bias = new TokenBias(model.tokenizer);
  const biases = biasesOf(bias);
  if (!biases) throw new Error("TokenBias._biases is missing: call checkLlamaInternals first");
  const vocabulary = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  for (let token = 0; token < vocabulary; token++) {
    if (model.isEogToken(token as Token)) biases.set(token as Token, Number.NEGATIVE_INFINITY);
  }
  return bias;
}
