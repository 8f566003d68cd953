import type { BatchItem, BatchingOptions, LlamaContext, PrioritizedBatchItem } from "node-llama-cpp";
import { queuedDecodes, queuedSequenceCount } from "./llama-internals.ts";

/**
 * Why this exists: with several sequences and a per-sequence KV cache (node-llama-cpp always creates
 * its contexts with `kv_unified = false`), llama.cpp splits every batch with `split_equal(sequential =
 * true)`, which packs into one micro-batch only tokens whose sequence ids rise by exactly one
 * (llama-batch.cpp: "accept only increasing sequence ids"). node-llama-cpp adds the queued decodes to a
 * batch in the order the sequences asked, which follows the order their sampling finished: nearly
 * random. A batch of 32 one-token decodes then runs as many micro-batches, one graph each, and the time
 * per step grows linearly with the number of sequences. Ordering each batch by sequence id turns it
 * back into one micro-batch (plus one per gap in the ids).
 */

/** Counters of the batches this strategy ordered, for benchmarks and diagnostics. */
export interface BatchOrderStats {
  /** Batches dispatched (one native decode call each). */
  batches: number;
  /** Decode requests in those batches (one per sequence that had tokens queued). */
  items: number;
  /** Tokens in those batches. */
  tokens: number;
  /**
   * Runs of consecutive sequence ids: llama.cpp computes at least one micro-batch per run. Equal to
   * `batches` when every batch is one run.
   */
  runs: number;
}

export interface LlamaBatchingOptions {
  /** Order each batch by sequence id. @defaultValue true */
  order?: boolean;
  /**
   * Longest wait, after the first decode is queued, for the other generating sequences to queue
   * theirs, so that a step carries every sequence instead of those whose sampling happened to finish
   * first. 0 dispatches on the next event-loop turn, as node-llama-cpp does. @defaultValue 0
   */
  gatherMs?: number;
  /** How many sequences are generating now (the pool's busy count). */
  active?: () => number;
}

/**
 * Shares the batch's token slots like node-llama-cpp's "maximumParallelism" strategy (every waiting
 * sequence gets a fair share first, so generation never starves behind a long prompt), then orders the
 * batch by sequence id.
 */
export class LlamaBatching {
  readonly stats: BatchOrderStats = { batches: 0, items: 0, tokens: 0, runs: 0 };
  /** Set once the context exists (the batching is created before it, for its options). */
  context: LlamaContext | undefined;
  private readonly order: boolean;
  private readonly gatherMs: number;
  private readonly active: () => number;

  constructor({ order = true, gatherMs = 0, active = () => 0 }: LlamaBatchingOptions = {}) {
    this.order = order;
    this.gatherMs = gatherMs;
    this.active = active;
  }

  /** The value to pass as the context's `batching` option. */
  get options(): BatchingOptions {
    return {
      itemPrioritizationStrategy: this.strategy,
      dispatchSchedule: this.gatherMs > 0 ? this.gather : "nextCycle",
    };
  }

  /** Dispatches once every generating sequence has queued a decode, or when gatherMs has passed. */
  private readonly gather = (dispatch: () => void): void => {
    const deadline = performance.now() + this.gatherMs;
    const check = () => {
      const queued = queuedSequenceCount(this.context);
      if (queued === undefined || queued >= this.active() || performance.now() >= deadline) dispatch();
      else setImmediate(check);
    };
    setImmediate(check);
  };

  /** The function to pass as `batching.itemPrioritizationStrategy`. */
  readonly strategy = ({
    items,
    size,
  }: {
    items: readonly BatchItem[];
    size: number;
  }): PrioritizedBatchItem[] => {
    const chosen = shareSlots(items, size);
    const ids = new Map<readonly number[], number>();
    for (const queued of queuedDecodes(this.context)) ids.set(queued.tokens, queued.sequenceId);
    const idOf = (item: BatchItem) => ids.get(item.tokens) ?? Number.MAX_SAFE_INTEGER;
    // Array.prototype.sort is stable: two decodes of one sequence keep their order.
    if (this.order) chosen.sort((a, b) => idOf(a.item) - idOf(b.item));
    this.record(chosen, idOf);
    return chosen;
  };

  private record(chosen: readonly PrioritizedBatchItem[], idOf: (item: BatchItem) => number): void {
    if (chosen.length === 0) return;
    this.stats.batches += 1;
    this.stats.items += chosen.length;
    let previous: number | undefined;
    for (const { item, processAmount } of chosen) {
      this.stats.tokens += processAmount;
      const id = idOf(item);
      if (previous === undefined || id !== previous + 1) this.stats.runs += 1;
      previous = id;
    }
  }
}

/**
 * A fair share of `size` token slots for each item, then the remainder to the items still clipped: the
 * same shares as node-llama-cpp's built-in "maximumParallelism" strategy, which a custom strategy cannot
 * call (the package exports only its name), so ordering by sequence id needs its own copy.
 */
function shareSlots(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
  let left = size;
  const share = Math.max(1, Math.floor(size / Math.max(1, items.length)));
  const chosen: PrioritizedBatchItem[] = [];
  for (const item of items) {
    if (left <= 0) break;
    const processAmount = Math.min(item.tokens.length, share, left);
    chosen.push({ item, processAmount });
    left -= processAmount;
  }
  // Higher evaluation priority first for the spare slots, as node-llama-cpp does.
  const clipped = chosen
    .filter((c) => c.processAmount < c.item.tokens.length)
    .sort((a, b) => b.item.evaluationPriority - a.item.evaluationPriority);
  for (const c of clipped) {
    if (left <= 0) break;
    const extra = Math.min(c.item.tokens.length - c.processAmount, left);
    c.processAmount += extra;
    left -= extra;
  }
  return chosen;
}
