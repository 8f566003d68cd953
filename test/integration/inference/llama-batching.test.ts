import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BatchItem, LlamaContext, Token } from "node-llama-cpp";
import { LlamaBatching } from "../../../src/inference/llama-batching.ts";

/** A stand-in for node-llama-cpp's internal queue: the batch items share their token arrays with it. */
function queue(sequenceIds: number[], tokensEach = 1) {
  const queued = sequenceIds.map((sequenceId) => ({
    sequenceId,
    tokens: Array.from({ length: tokensEach }, (_, i) => (100 + i) as Token),
  }));
  const items: BatchItem[] = queued.map((q) => ({ tokens: q.tokens, logits: [true], evaluationPriority: 5 }));
  const context = {
    _queuedDecodes: queued,
    _queuedDecodeSequenceIds: new Set(sequenceIds),
  } as unknown as LlamaContext;
  const idOf = new Map<readonly Token[], number>(queued.map((q) => [q.tokens, q.sequenceId]));
  return { items, context, idOf };
}

describe("LlamaBatching", () => {
  it("orders a batch by sequence id, so llama.cpp can run it as one micro-batch", () => {
    const { items, context, idOf } = queue([5, 2, 7, 0, 1, 3, 6, 4]);
    const batching = new LlamaBatching();
    batching.context = context;
    const chosen = batching.strategy({ items, size: 512 });
    assert.deepEqual(
      chosen.map((c) => idOf.get(c.item.tokens)),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(batching.stats, { batches: 1, items: 8, tokens: 8, runs: 1 });
  });

  it("counts one run per break in the sequence ids", () => {
    const { items, context } = queue([9, 0, 1, 4, 5]);
    const batching = new LlamaBatching();
    batching.context = context;
    batching.strategy({ items, size: 512 });
    assert.equal(batching.stats.runs, 3, "0-1, 4-5, 9");
  });

  it("keeps arrival order when ordering is off, and still counts the runs", () => {
    const { items, context, idOf } = queue([3, 1, 2, 0]);
    const batching = new LlamaBatching({ order: false });
    batching.context = context;
    const chosen = batching.strategy({ items, size: 512 });
    assert.deepEqual(
      chosen.map((c) => idOf.get(c.item.tokens)),
      [3, 1, 2, 0],
    );
    assert.equal(batching.stats.runs, 3, "3, 1-2, 0");
  });

  it("gives every queued sequence a share of the batch before a long prompt takes the rest", () => {
    const long = queue([0], 100);
    const short = queue([1, 2, 3], 1);
    const items = [...long.items, ...short.items];
    const batching = new LlamaBatching();
    batching.context = {
      _queuedDecodes: [
        ...(long.context as unknown as { _queuedDecodes: unknown[] })._queuedDecodes,
        ...(short.context as unknown as { _queuedDecodes: unknown[] })._queuedDecodes,
      ],
    } as unknown as LlamaContext;
    const chosen = batching.strategy({ items, size: 16 });
    assert.equal(
      chosen.reduce((sum, c) => sum + c.processAmount, 0),
      16,
    );
    assert.deepEqual(
      chosen.map((c) => c.processAmount),
      [13, 1, 1, 1],
    );
  });

  it("with a gather window, waits until every generating sequence has queued, then dispatches", async () => {
    const ids = new Set<number>([0]);
    const batching = new LlamaBatching({ gatherMs: 1000, active: () => 3 });
    batching.context = { _queuedDecodes: [], _queuedDecodeSequenceIds: ids } as unknown as LlamaContext;
    const schedule = batching.options.dispatchSchedule;
    assert.equal(typeof schedule, "function");
    let dispatched = false;
    (schedule as (dispatch: () => void) => void)(() => {
      dispatched = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(dispatched, false, "two of three sequences are still sampling");
    ids.add(1).add(2);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(dispatched, true);
  });

  it("with a gather window, dispatches at the deadline when a sequence never queues", async () => {
    const batching = new LlamaBatching({ gatherMs: 15, active: () => 4 });
    batching.context = {
      _queuedDecodes: [],
      _queuedDecodeSequenceIds: new Set([0]),
    } as unknown as LlamaContext;
    const started = performance.now();
    const at = await new Promise<number>((resolve) =>
      (batching.options.dispatchSchedule as (d: () => void) => void)(() => resolve(performance.now())),
    );
    assert.ok(at - started >= 14);
  });
});
