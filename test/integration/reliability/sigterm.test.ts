import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { startWorkerRuntime } from "../../../src/app/worker-runtime.ts";
import { testConfig } from "../../../src/config.ts";
import { createLogger } from "../../../src/logger.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { ensureTinyModel } from "../../../src/tiny-model/tiny-model.ts";
import { Accounting, dropPrefix, formatReport } from "../../helpers/accounting.ts";
import { createConversation, postMessage } from "../../helpers/webchat-client.ts";
import { exited } from "../../helpers/worker-process.ts";
import { freePort } from "./private-redis-server.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** `npm start` as a real process (gateway and worker in one), as an operator runs it. */
async function startService(env: Record<string, string>): Promise<{ child: ChildProcess; baseUrl: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    assert.equal(child.exitCode, null, "the service exited during start-up");
    const ok = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, baseUrl };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  throw new Error("the service was not ready in time");
}

async function baseEnv(extra: Record<string, string>): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    REDIS_URL,
    REDIS_PREFIX: `test-${randomUUID()}`,
    LOG_LEVEL: "warn",
    MODEL_PATH: await ensureTinyModel(),
    LLM_GPU: "false",
    LLM_THREADS: "1",
    LLM_SEQUENCES: "2",
    LLM_CONTEXT_SIZE: "4096",
    LLM_IGNORE_EOS: "true",
    KNOWLEDGE_DIR: resolve("knowledge"),
    KNOWLEDGE_WATCH: "false",
    RETRIEVAL_TOKEN_BUDGET: "120",
    RATE_LIMIT_USER_PER_MINUTE: "0",
    RATE_LIMIT_TENANT_PER_MINUTE: "0",
    RATE_LIMIT_IP_PER_MINUTE: "0",
    ANSWER_TIMEOUT_MS: "300000",
    ...extra,
  };
}

/** Posts one message in each of `n` new conversations and waits until all are being answered. */
async function inFlight(baseUrl: string, redis: Redis, accounting: Accounting, prefix: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await createConversation(baseUrl);
    const res = await postMessage(baseUrl, c.conversationId, c.token, "How do I return an item?");
    ids.push((await accounting.acceptWebchat(res, c.conversationId)) as string);
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const states = await Promise.all(ids.map((id) => redis.hget(new Keyspace(prefix).message(id), "state")));
    if (states.every((s) => s === "running")) return ids;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("answers did not start");
}

describe("SIGTERM: graceful shutdown of npm start", () => {
  it("stops taking new messages, finishes the answers in flight and exits 0", async () => {
    const env = await baseEnv({ MAX_ANSWER_TOKENS: "2500", SHUTDOWN_GRACE_MS: "120000" });
    const redis = new Redis(REDIS_URL);
    const accounting = new Accounting(redis, env.REDIS_PREFIX as string);
    const { child, baseUrl } = await startService(env);
    try {
      const ids = await inFlight(baseUrl, redis, accounting, env.REDIS_PREFIX as string, 2);
      child.kill("SIGTERM");
      // Intake stops: the HTTP server refuses connections while the answers are still being written.
      let refused = false;
      const deadline = Date.now() + 30_000;
      while (!refused && Date.now() < deadline) {
        refused = await fetch(`${baseUrl}/healthz`).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(refused, "the server stopped accepting connections");
      const code = await exited(child);
      assert.equal(code, 0);
      const report = await accounting.audit();
      assert.equal(report.answered, ids.length, `answers in flight were finished: ${formatReport(report)}`);
      assert.equal(report.lost + report.duplicated, 0, formatReport(report));
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await dropPrefix(redis, env.REDIS_PREFIX as string);
      redis.disconnect();
    }
  });

  it("exits 0 when the grace period runs out and leaves the unfinished answers to the next worker", async () => {
    const env = await baseEnv({
      MAX_ANSWER_TOKENS: "30000",
      LLM_CONTEXT_SIZE: "32768",
      SHUTDOWN_GRACE_MS: "500",
    });
    const redis = new Redis(REDIS_URL);
    const prefix = env.REDIS_PREFIX as string;
    const accounting = new Accounting(redis, prefix);
    const { child, baseUrl } = await startService(env);
    try {
      await inFlight(baseUrl, redis, accounting, prefix, 2);
      child.kill("SIGTERM");
      assert.equal(await exited(child), 0);
      const cut = await accounting.audit();
      assert.equal(cut.lost, 2, `cut off, not answered and not failed: ${formatReport(cut)}`);

      // The next worker (short answers now, and a short lock so the cut-off jobs are taken over soon)
      // answers both exactly once.
      const next = await startWorkerRuntime(
        testConfig({
          ...env,
          MAX_ANSWER_TOKENS: "16",
          LLM_CONTEXT_SIZE: "4096",
          WORKER_LOCK_MS: "1000",
          WORKER_STALLED_INTERVAL_MS: "500",
        }),
        createLogger({ level: "silent" }),
      );
      try {
        const report = await accounting.settle(120_000);
        assert.equal(report.lost + report.duplicated, 0, formatReport(report));
        assert.equal(report.answered, 2, formatReport(report));
      } finally {
        await next.close();
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
  });
});
