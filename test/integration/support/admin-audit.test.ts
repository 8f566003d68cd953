import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../../src/logger.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";

const VIEWER = "viewer-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef01";

describe("admin API audit log", () => {
  let h: Harness;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });

  before(async () => {
    h = await startHarness({
      worker: false,
      model: false,
      env: { ADMIN_TOKENS: `viewer:${VIEWER},admin:${ADMIN}` },
      logger: createLogger({ level: "info", destination: sink }),
    });
  });
  after(async () => {
    await h?.stop();
  });

  const call = (token: string | undefined, method: string, path: string, body?: unknown) =>
    fetch(`${h.baseUrl}/admin/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it("logs every call, allowed or refused, with role, action and status, never the token", async () => {
    assert.equal((await call(VIEWER, "GET", "/reports")).status, 200);
    assert.equal((await call(VIEWER, "PUT", "/settings", { handoffMessage: "x" })).status, 403);
    assert.equal((await call(undefined, "GET", "/handoffs")).status, 401);
    const bad = await call(ADMIN, "PUT", "/settings", { colour: "blue" });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "bad_request");
    assert.equal((await call(ADMIN, "POST", "/handoffs/nope/release")).status, 404);
    await new Promise((r) => setTimeout(r, 100));
    const audit = lines
      .filter((l) => l.component === "admin-audit")
      .map(({ role, action, status, target }) => ({ role, action, status, ...(target ? { target } : {}) }));
    assert.deepEqual(audit, [
      { role: "viewer", action: "report.read", status: 200 },
      { role: "viewer", action: "settings.update", status: 403 },
      { role: null, action: "handoff.list", status: 401 },
      { role: "admin", action: "settings.update", status: 400 },
      { role: "admin", action: "handoff.release", status: 404, target: "nope" },
    ]);
    const all = JSON.stringify(lines);
    assert.ok(!all.includes(VIEWER) && !all.includes(ADMIN), "a token reached the log");
  });
});
