import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FeedbackService,
  type FeedbackStore,
  type TurnFeedback,
} from "../../../src/conversation/feedback.ts";
import type { ConversationRef } from "../../../src/conversation/inbound-message.ts";
import { ErrorCode, GatewayError } from "../../../src/errors.ts";
import { createLogger } from "../../../src/logger.ts";

const ref: ConversationRef = { channel: "slack", tenant: "T1", conversationKey: "C1:1.1" };

class MemoryStore implements FeedbackStore {
  readonly votes = new Map<string, TurnFeedback>();
  constructor(private readonly known: string[]) {}
  async setFeedback(_ref: ConversationRef, turnId: string, feedback: TurnFeedback): Promise<boolean> {
    if (!this.known.includes(turnId)) return false;
    this.votes.set(turnId, feedback);
    return true;
  }
}

const service = (store: FeedbackStore) =>
  new FeedbackService({ store, logger: createLogger({ level: "silent" }), now: () => 1234 });

describe("FeedbackService", () => {
  it("stores the vote, its time and a trimmed reason with the turn", async () => {
    const store = new MemoryStore(["m-1"]);
    await service(store).record({ ref, turnId: "m-1", vote: "down", reason: "  wrong plan  ", userId: "U1" });
    assert.deepEqual(store.votes.get("m-1"), { vote: "down", reason: "wrong plan", at: 1234 });
  });

  it("replaces an earlier vote on the same answer", async () => {
    const store = new MemoryStore(["m-1"]);
    await service(store).record({ ref, turnId: "m-1", vote: "down", userId: "U1" });
    await service(store).record({ ref, turnId: "m-1", vote: "up", userId: "U1" });
    assert.equal(store.votes.get("m-1")?.vote, "up");
  });

  it("says not_found when the answer is no longer kept", async () => {
    await assert.rejects(
      service(new MemoryStore([])).record({ ref, turnId: "m-gone", vote: "up", userId: "U1" }),
      (error: unknown) => error instanceof GatewayError && error.code === ErrorCode.NotFound,
    );
  });

  it("refuses an unknown vote and an over-long reason", async () => {
    const s = service(new MemoryStore(["m-1"]));
    await assert.rejects(
      s.record({ ref, turnId: "m-1", vote: "meh" as "up", userId: "U1" }),
      (error: unknown) => error instanceof GatewayError && error.code === ErrorCode.BadRequest,
    );
    await assert.rejects(
      s.record({ ref, turnId: "m-1", vote: "up", reason: "x".repeat(501), userId: "U1" }),
      /keep it under 500/,
    );
  });
});
