import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../src/redis/private-redis.ts";
import { percentile, round, say, table } from "./stats.ts";

/**
 * Start-up time as an operator meets it: `npm start` until /readyz first answers 200, with the sample
 * knowledge folder and no model (retrieval-only), on the Redis at 127.0.0.1:6379.
 *
 * - `installed`: in this checkout, dependencies already installed (and, where the start builds, the build
 *   already fresh after the first run): `--startup-runs N` runs (default 3).
 * - `fresh clone`: `git clone` of this checkout's HEAD (committed work only) into a temporary folder, then
 *   `npm start` there: the dependency install and any first build are included. npm's download cache on
 *   this machine is warm, so this is the time of the install itself, not of the network. `--no-fresh`
 *   skips it (it takes one to two minutes).
 */

const repoRoot = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();

interface Run {
  readyMs: number;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`npm start exited with ${exited} before /readyz answered 200`);
    const ok = await fetch(url)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`/readyz did not answer 200 within ${timeoutMs} ms`);
}

/** Stops the whole `npm start` process group (npm, its shell, node) and waits for it to go. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const gone = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGTERM");
  await gone;
}

async function startOnce(cwd: string, prefix: string, timeoutMs: number): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn("npm", ["start"], {
    cwd,
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: prefix,
      KNOWLEDGE_DIR: join(cwd, "knowledge"),
      LOG_LEVEL: "warn",
      MODEL_PATH: "",
    },
  });
  try {
    await waitReady(`http://127.0.0.1:${port}/readyz`, child, timeoutMs);
    return { readyMs: performance.now() - started };
  } finally {
    await stop(child);
  }
}

async function dropKeys(prefix: string): Promise<void> {
  const redis = new Redis("redis://127.0.0.1:6379");
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export async function runStartupBench(json: boolean): Promise<Record<string, unknown>> {
  const args = process.argv.slice(2);
  const runsArg = args.indexOf("--startup-runs");
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;
  const fresh = !args.includes("--no-fresh");
  const prefix = `bench-startup-${randomUUID().slice(0, 8)}`;
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
    cwd: repoRoot,
    encoding: "utf8",
  }).trim();
  const out: Record<string, unknown> = { commit };
  try {
    const installed: number[] = [];
    for (let i = 0; i < runs; i++) installed.push((await startOnce(repoRoot, prefix, 120_000)).readyMs);
    out.installed = {
      runs: installed.map((ms) => round(ms, 0)),
      medianMs: round(percentile(installed, 50), 0),
    };
    const rows: (string | number)[][] = [
      [
        "installed checkout",
        runs,
        round(percentile(installed, 50) / 1000, 2),
        installed.map((ms) => round(ms / 1000, 2)).join(", "),
      ],
    ];
    if (fresh) {
      const dir = mkdtempSync(join(tmpdir(), "sgw-fresh-"));
      try {
        const cloneStarted = performance.now();
        execFileSync("git", ["clone", "--quiet", repoRoot, dir]);
        const cloneMs = performance.now() - cloneStarted;
        const first = await startOnce(dir, prefix, 600_000);
        const again = await startOnce(dir, prefix, 120_000);
        const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" }).trim();
        out.freshClone = {
          cloneMs: round(cloneMs, 0),
          firstStartMs: round(first.readyMs, 0),
          secondStartMs: round(again.readyMs, 0),
          trackedFilesChanged: dirty === "" ? [] : dirty.split("\n"),
        };
        rows.push(["fresh clone, first npm start (install included)", 1, round(first.readyMs / 1000, 2), ""]);
        rows.push(["fresh clone, second npm start", 1, round(again.readyMs / 1000, 2), ""]);
        say(json, `fresh clone of ${commit}: git status after two starts: ${dirty === "" ? "clean" : dirty}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    say(json, table(["npm start to /readyz 200", "runs", "median s", "each s"], rows));
  } finally {
    await dropKeys(prefix);
  }
  return out;
}
