import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LlamaContext } from "node-llama-cpp";
import { ErrorCode, GatewayError } from "../../../src/errors.ts";
import {
  checkLlamaInternals,
  PINNED_NODE_LLAMA_CPP,
  queuedDecodes,
  queuedSequenceCount,
} from "../../../src/inference/llama-internals.ts";

/** A context with the shape of node-llama-cpp 3.22.1's, minus whatever `without` names. */
function context(without: string[] = []): LlamaContext {
  const fields: Record<string, unknown> = {
    _queuedDecodes: [{ sequenceId: 3, tokens: [7] }],
    _queuedDecodeSequenceIds: new Set([3]),
    model: { tokenizer: () => [] },
  };
  for (const name of without) delete fields[name];
  return fields as unknown as LlamaContext;
}

describe("node-llama-cpp internals shim", () => {
  it("accepts a context that has what the shim reads, and reads it", async () => {
    await checkLlamaInternals(context());
    assert.deepEqual(
      queuedDecodes(context()).map((d) => d.sequenceId),
      [3],
    );
    assert.equal(queuedSequenceCount(context()), 1);
  });

  it("fails loudly at start-up, naming the missing internal and the pinned version", async () => {
    await assert.rejects(checkLlamaInternals(context(["_queuedDecodes"])), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, ErrorCode.LibraryIncompatible);
      assert.match(error.message, /LlamaContext\._queuedDecodes/);
      assert.ok(error.message.includes(`pinned to node-llama-cpp ${PINNED_NODE_LLAMA_CPP}`));
      return true;
    });
    await assert.rejects(
      checkLlamaInternals(context(["_queuedDecodeSequenceIds"])),
      /_queuedDecodeSequenceIds/,
    );
  });

  it("pins the version package.json installs", async () => {
    const { getModuleVersion } = await import("node-llama-cpp");
    assert.equal(await getModuleVersion(), PINNED_NODE_LLAMA_CPP);
  });
});
