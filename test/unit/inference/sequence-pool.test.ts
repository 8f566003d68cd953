import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode } from "../../../src/errors.ts";
import { SequencePool } from "../../../src/inference/sequence-pool.ts";

describe("SequencePool", () => {
  it("hands out each item once until it is released", async () => {
    const pool = new SequencePool(["a", "b"], async () => {});
    const first = await pool.acquire();
    const second = await pool.acquire();
    assert.notEqual(first, second);
    assert.equal(pool.available, 0);
  });

  it("hands out the free item with the lowest position first, so busy items stay consecutive", async () => {
    const pool = new SequencePool([0, 1, 2, 3], async () => {});
    const [a, b, c] = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
    assert.deepEqual([a, b, c], [0, 1, 2]);
    await pool.release(b);
    await pool.release(a);
    assert.equal(await pool.acquire(), 0);
    assert.equal(await pool.acquire(), 1);
    assert.equal(await pool.acquire(), 3);
  });

  it("makes callers wait when empty and serves them in arrival order", async () => {
    const pool = new SequencePool(["only"], async () => {});
    const held = await pool.acquire();
    const order: string[] = [];
    const one = pool.acquire().then((x) => order.push(`one:${x}`));
    const two = pool.acquire().then((x) => order.push(`two:${x}`));
    assert.equal(pool.waiting, 2);
    await pool.release(held);
    await one;
    assert.deepEqual(order, ["one:only"]);
    await pool.release("only");
    await two;
    assert.deepEqual(order, ["one:only", "two:only"]);
  });

  it("resets an item before the next caller receives it", async () => {
    const events: string[] = [];
    const pool = new SequencePool(["s"], async (item) => {
      await new Promise((r) => setTimeout(r, 5));
      events.push(`reset ${item}`);
    });
    const held = await pool.acquire();
    const next = pool.acquire().then(() => events.push("acquired"));
    await pool.release(held);
    await next;
    assert.deepEqual(events, ["reset s", "acquired"]);
  });

  it("still hands the item out when its reset fails, and reports the failure", async () => {
    const reported: unknown[] = [];
    const pool = new SequencePool(
      ["s"],
      async () => {
        throw new Error("clear failed");
      },
      (e) => reported.push(e),
    );
    await pool.release(await pool.acquire());
    assert.equal(pool.available, 1);
    assert.equal(reported.length, 1);
  });

  it("rejects a waiting caller with a cancelled error when its signal aborts, and forgets it", async () => {
    const pool = new SequencePool(["s"], async () => {});
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort();
    await assert.rejects(waiting, (e: { code?: string }) => e.code === ErrorCode.Cancelled);
    assert.equal(pool.waiting, 0);
    await pool.release(held);
    assert.equal(pool.available, 1, "the released item was not given to the cancelled caller");
  });

  it("fails waiters and new callers after close", async () => {
    const pool = new SequencePool(["s"], async () => {});
    await pool.acquire();
    const waiting = pool.acquire();
    pool.close();
    await assert.rejects(waiting, (e: { code?: string }) => e.code === ErrorCode.ModelUnavailable);
    await assert.rejects(pool.acquire(), (e: { code?: string }) => e.code === ErrorCode.ModelUnavailable);
  });
});
