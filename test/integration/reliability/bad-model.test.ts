import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { exited } from "../../helpers/worker-process.ts";

interface ReadyBody {
  status: string;
  workers: { id: string; state: string; error?: string }[];
  warnings: string[];
}

/** A worker process whose output the test reads (the shared helper lets it print to the console). */
function spawnWorkerCapturing(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start", "worker"], {
    env: { ...process.env, ...env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return { child, output: () => text };
}

async function readyz(baseUrl: string): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

// A MODEL_PATH that names no file stops the worker at start-up with one line instead
// (test/integration/cli/startup-errors.test.ts): only a file that exists can fail inside the loader.
describe("fault: the model file is corrupt when a worker starts", () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), "sgw-badmodel-"));
  before(async () => {
    h = await startHarness({ worker: false });
  });
  after(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, make] of [
    [
      "corrupt",
      (path: string) => {
        // A GGUF magic followed by garbage: looks like a model until it is parsed.
        writeFileSync(path, Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(4096, 0xab)]));
        return path;
      },
    ],
  ] as const) {
    it(`reports a ${name} model by its file name, keeps the gateway ready to queue, and stays up without restarting`, async () => {
      const modelPath = make(join(dir, `${name}-model.gguf`));
      const { child, output } = spawnWorkerCapturing({ ...h.env, MODEL_PATH: modelPath });
      try {
        let state: { status: number; body: ReadyBody } | undefined;
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          state = await readyz(h.baseUrl);
          if (state.body.workers.some((w) => w.state === "failed")) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(state, "readiness was read");
        // The gateway still accepts work (queued messages end with `unavailable` after QUEUE_WAIT_MS).
        assert.equal(state.status, 200, "the gateway can accept and queue work");
        const failed = state.body.workers.find((w) => w.state === "failed");
        assert.ok(failed?.error?.includes(modelPath), `the error names the file: ${failed?.error}`);
        assert.ok(
          state.body.warnings.some((p) => p.includes(modelPath)),
          state.body.warnings.join("; "),
        );

        // Nothing crashes in a loop: the same process is still up a while later, and still reports.
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal(child.exitCode, null, "the worker process is still running");
        assert.equal((await readyz(h.baseUrl)).body.workers.filter((w) => w.state === "failed").length, 1);
        assert.match(output(), /the model could not be loaded/);
        assert.ok(output().includes(modelPath), "the log line names the file");
        assert.equal((await fetch(`${h.baseUrl}/healthz`)).status, 200, "the gateway itself is healthy");
      } finally {
        child.kill("SIGTERM");
        assert.equal(await exited(child), 0, "a failed worker still stops cleanly");
      }
    });
  }
});
