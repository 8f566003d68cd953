import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from its sources (no build) with the given settings and waits for it to exit. */
function cli(args: string[], env: Record<string, string>): Promise<Outcome> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_PREFIX: `test-${randomUUID()}`,
      KNOWLEDGE_DIR: "knowledge",
      KNOWLEDGE_WATCH: "false",
      LOG_LEVEL: "warn",
      MODEL_PATH: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** One line on stderr, exit 1, and no stack trace anywhere in the output. */
function assertOneLine(outcome: Outcome, ...patterns: RegExp[]): void {
  const lines = outcome.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${outcome.stderr}`);
  assert.equal(outcome.code, 1, outcome.stderr);
  assert.doesNotMatch(outcome.stderr + outcome.stdout, /^\s+at /m, "no stack trace");
  for (const pattern of patterns) assert.match(lines[0] ?? "", pattern);
}

describe("start-up with settings that cannot work", () => {
  let occupied: Server;
  let occupiedPort = 0;
  before(async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, "127.0.0.1", resolve));
    occupiedPort = (occupied.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => occupied.close(() => resolve())));

  it("REDIS_URL that is not a URL: names it and shows the form to use", async () => {
    assertOneLine(
      await cli(["start"], { REDIS_URL: "nonsense" }),
      /REDIS_URL/,
      /not a Redis URL/,
      /redis:\/\/HOST:PORT/,
    );
  });

  it("REDIS_URL where nothing listens: says so instead of reconnecting forever", async () => {
    assertOneLine(
      await cli(["start", "gateway"], { REDIS_URL: "redis://127.0.0.1:1" }),
      /^REDIS_URL: /,
      /nothing listens at 127\.0\.0\.1:1/,
      /start Redis there or point REDIS_URL/,
    );
  });

  it("HOST that is no address: names it and the addresses to use", async () => {
    assertOneLine(await cli(["start"], { HOST: "999.1.1.1" }), /HOST/, /not an IP address/, /0\.0\.0\.0/);
  });

  it("PORT already taken: names it", async () => {
    assertOneLine(
      await cli(["start", "gateway"], { PORT: String(occupiedPort) }),
      /^PORT: /,
      /already in use/,
    );
  });

  it("MODEL_PATH naming no file: the worker stops and says what to do", async () => {
    const missing = join(tmpdir(), `missing-${randomUUID()}.gguf`);
    assertOneLine(
      await cli(["start", "worker"], { MODEL_PATH: missing }),
      /^MODEL_PATH: no file at /,
      new RegExp(missing.replace(/[.]/g, "\\.")),
      /retrieval-only/,
    );
  });

  it("REDIS_URL unreachable for report, users and deliveries too", async () => {
    for (const command of [
      ["report"],
      ["users", "delete", "--channel", "slack", "--user", "U1"],
      ["deliveries", "list"],
    ]) {
      assertOneLine(await cli(command, { REDIS_URL: "redis://127.0.0.1:1" }), /^REDIS_URL: nothing listens/);
    }
  });
});

describe("the CLI's usage", () => {
  it("`start --help` lists the roles and commands", async () => {
    const { code, stdout } = await cli(["start", "--help"], {});
    assert.equal(code, 0);
    for (const word of [
      "gateway",
      "worker",
      "npm run kb",
      "npm run report",
      "npm run users",
      "npm run deliveries",
      "model:tiny",
    ]) {
      assert.ok(stdout.includes(word), `${word} in:\n${stdout}`);
    }
  });

  it("an unknown role gets one line pointing at --help, exit 2", async () => {
    const { code, stderr } = await cli(["start", "gatewy"], {});
    assert.equal(code, 2);
    assert.equal(stderr.trimEnd().split("\n").length, 1);
    assert.match(stderr, /Unknown role "gatewy".*--help/);
  });
});

describe("a worker's own probes (WORKER_HEALTH_PORT)", () => {
  it("answers /healthz, turns /readyz to 200 once the worker takes jobs, and stops cleanly", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start", "worker"], {
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        WORKER_HEALTH_PORT: String(port),
        REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
        REDIS_PREFIX: `test-${randomUUID()}`,
        LOG_LEVEL: "warn",
        MODEL_PATH: "",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      let ready = 0;
      // A worker process compiles and loads everything it runs: on a busy machine that takes a while.
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && ready !== 200) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`)
          .then((r) => r.status)
          .catch(() => 0);
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ready, 200, "the worker became ready");
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });
});
