import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../src/logger.ts";

/** Collects the raw JSON lines a logger writes. */
function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

const occurrences = (line: string, key: string) => line.split(`"${key}":`).length - 1;

describe("createLogger", () => {
  it("writes each key once when a child re-binds its parent's component", () => {
    const { lines, destination } = capture();
    const root = createLogger({ destination });
    const worker = root.child({ component: "worker", workerId: "w1" });
    worker.child({ component: "inference-worker" }).info("job done");
    worker.info("heartbeat");

    const [inner, outer] = lines;
    assert.ok(inner && outer);
    assert.equal(occurrences(inner, "component"), 1, inner);
    assert.equal(JSON.parse(inner).component, "inference-worker");
    assert.equal(JSON.parse(inner).workerId, "w1");
    assert.equal(occurrences(inner, "pid"), 1, inner);
    assert.equal(JSON.parse(outer).component, "worker");
  });

  it("keeps bindings of different keys as pino writes them", () => {
    const { lines, destination } = capture();
    createLogger({ destination }).child({ component: "slack" }).child({ messageId: "m1" }).warn("slow");
    const line = JSON.parse(lines[0] ?? "{}");
    assert.equal(line.component, "slack");
    assert.equal(line.messageId, "m1");
    assert.equal(line.msg, "slow");
  });

  it("still redacts secrets bound on a child", () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination }).child({ component: "a", token: "xoxb-secret" });
    log.child({ component: "b" }).info("x");
    assert.doesNotMatch(lines[0] ?? "", /xoxb-secret/);
    assert.equal(occurrences(lines[0] ?? "", "component"), 1);
  });
});
