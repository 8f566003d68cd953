import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeEngine, type FakeEngineTimer } from "../../../src/inference/fake-engine.ts";
import { engineContract } from "../../contract/engine-contract.ts";

// The Engine contract against the FakeEngine (real time, 1 ms per token), then its pacing on a clock
// driven by hand.
engineContract(
  "FakeEngine",
  async ({ capacity, contextSize }) => new FakeEngine({ capacity, contextSize, tokenMs: 1, ignoreEos: true }),
);

/** A timer whose time moves only when the test says so. */
class ManualTimer implements FakeEngineTimer {
  now = 0;
  private waiting: { at: number; resolve: () => void }[] = [];

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const entry = { at: this.now + ms, resolve };
      this.waiting.push(entry);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** Moves time forward, waking every sleeper that is due, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      // Let woken generations run up to their next sleep before looking again.
      await new Promise((r) => setImmediate(r));
      const due = this.waiting.filter((w) => w.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.waiting.splice(this.waiting.indexOf(due), 1);
      this.now = due.at;
      due.resolve();
    }
    this.now = until;
  }
}

describe("FakeEngine pacing", () => {
  it("emits the first token after firstTokenMs, then one every tokenMs, on the injected clock", async () => {
    const timer = new ManualTimer();
    const engine = new FakeEngine({ capacity: 1, tokenMs: 20, firstTokenMs: 150, timer, ignoreEos: true });
    const at: number[] = [];
    const done = engine.generate(
      { rawPrompt: "hello", maxTokens: 4, temperature: 0 },
      { signal: new AbortController().signal, onText: () => at.push(timer.now) },
    );
    await timer.advance(149);
    assert.deepEqual(at, [], "nothing before the first-token time");
    await timer.advance(1000);
    const result = await done;
    assert.deepEqual(at, [150, 170, 190, 210]);
    assert.equal(result.tokens, 4);
    await engine.close();
  });

  it("queues beyond capacity: the third request starts when a slot frees", async () => {
    const timer = new ManualTimer();
    const engine = new FakeEngine({ capacity: 2, tokenMs: 10, firstTokenMs: 10, timer, ignoreEos: true });
    const firstChunk: number[] = [];
    const runs = [0, 1, 2].map((i) =>
      engine.generate(
        { rawPrompt: `q${i}`, maxTokens: 3, temperature: 0 },
        {
          signal: new AbortController().signal,
          onText: () => {
            firstChunk[i] ??= timer.now;
          },
        },
      ),
    );
    await timer.advance(1000);
    await Promise.all(runs);
    assert.deepEqual(firstChunk, [10, 10, 40], "the third waited for the first two (10 + 3 tokens at 10 ms)");
    await engine.close();
  });
});
