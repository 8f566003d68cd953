import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { ContextStore } from "../../src/conversation/context-store.ts";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";
import type { Turn } from "../../src/conversation/turn.ts";

/** A store under test, with a way to record a turn where `appendRecorded` reads it. */
export interface ContextStoreUnderTest {
  store: ContextStore;
  /** Writes `turn` as JSON at field `field` of record `key` (the ledger's part, in production). */
  record(key: string, field: string, turn: Turn): Promise<void>;
  /** A record key the implementation's `appendRecorded` can read for this conversation. */
  recordKey(ref: ConversationRef, turnId: string): string;
}

const turn = (id: string, extra: Partial<Turn> = {}): Turn => ({
  id,
  question: `q${id}`,
  answer: `a${id}`,
  citations: [],
  at: 1_700_000_000_000,
  ...extra,
});

/**
 * What every ContextStore promises (the conversation layer relies on each): the newest `maxTurns`
 * turns, oldest first; append is idempotent by turn id; votes ride with their turns; conversations are
 * scoped by channel, tenant and key. Each implementation runs this suite with maxTurns = 3.
 */
export function contextStoreContract(name: string, make: () => Promise<ContextStoreUnderTest>): void {
  describe(`ContextStore contract: ${name}`, () => {
    const newRef = (): ConversationRef => ({
      channel: "webchat",
      tenant: "t",
      conversationKey: randomUUID(),
    });

    it("keeps the newest three turns, oldest first", async () => {
      const { store } = await make();
      const ref = newRef();
      for (const id of ["1", "2", "3", "4"]) assert.equal(await store.append(ref, turn(id)), true);
      assert.deepEqual(
        (await store.load(ref)).map((t) => t.id),
        ["2", "3", "4"],
      );
    });

    it("appends a turn once however often it is appended", async () => {
      const { store } = await make();
      const ref = newRef();
      assert.equal(await store.append(ref, turn("x")), true);
      assert.equal(await store.append(ref, turn("x", { answer: "another text" })), false);
      const kept = await store.load(ref);
      assert.equal(kept.length, 1);
      assert.equal(kept[0]?.answer, "ax", "the first text stays");
    });

    it("appends the turn recorded elsewhere, once, and nothing when none is recorded", async () => {
      const subject = await make();
      const ref = newRef();
      const key = subject.recordKey(ref, "r1");
      assert.equal(await subject.store.appendRecorded(ref, "r1", { key, field: "turn" }), false);
      await subject.record(key, "turn", turn("r1", { answer: "the winner's text" }));
      assert.equal(await subject.store.appendRecorded(ref, "r1", { key, field: "turn" }), true);
      assert.equal(await subject.store.appendRecorded(ref, "r1", { key, field: "turn" }), false);
      assert.deepEqual(
        (await subject.store.load(ref)).map((t) => t.answer),
        ["the winner's text"],
      );
    });

    it("keeps a vote with its turn, and refuses one for a turn it no longer keeps", async () => {
      const { store } = await make();
      const ref = newRef();
      await store.append(ref, turn("v"));
      assert.equal(await store.setFeedback(ref, "v", { vote: "down", reason: "wrong", at: 1 }), true);
      assert.deepEqual((await store.load(ref))[0]?.feedback, { vote: "down", reason: "wrong", at: 1 });
      assert.equal(await store.setFeedback(ref, "gone", { vote: "up", at: 1 }), false);
    });

    it("scopes conversations by channel, tenant and key", async () => {
      const { store } = await make();
      const key = randomUUID();
      await store.append({ channel: "teams", tenant: "A", conversationKey: key }, turn("a"));
      assert.equal((await store.load({ channel: "teams", tenant: "B", conversationKey: key })).length, 0);
      assert.equal((await store.load({ channel: "slack", tenant: "A", conversationKey: key })).length, 0);
    });

    it("forgets a conversation on clear, votes included", async () => {
      const { store } = await make();
      const ref = newRef();
      await store.append(ref, turn("c"));
      await store.setFeedback(ref, "c", { vote: "up", at: 2 });
      await store.clear(ref);
      assert.deepEqual(await store.load(ref), []);
      await store.append(ref, turn("c"));
      assert.equal((await store.load(ref))[0]?.feedback, undefined, "the old vote went with it");
    });
  });
}
