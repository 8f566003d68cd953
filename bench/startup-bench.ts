import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../src/redis/private-redis.ts";
import { percentile, round, say, table } from "./stats.ts";

/**
 * Start-up time as an operator meets it: `npm start` until /readyz first answers 200, with the sample
 * knowledge folder and no model (retrieval-only), on the Redis at 127.0.0.1:6379.
 *
 * - `installed`: in this checkout, dependencies installed and dist/ fresh: `--startup-runs N` runs (default
 *   3), interleaved with as many of `node dist/cli.js start` (what the container images run: no npm) and
 *   of `node --import tsx src/cli/main.ts start`, what `npm start` ran before it started compiled output
 *   (without npm's own overhead, so the comparison flatters the old way).
 * - `fresh clone`: `git clone` of this checkout's HEAD (committed work only) into a temporary folder, then
 *   `npm start` there: the dependency install and any first build are included. npm's download cache on
 *   this machine is warm, so this is the time of the install itself, not of the network. `--no-fresh`
 *   skips it (it takes one to two minutes).
 */

const repoRoot = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();

interface Run {
  readyMs: number;
  /** CPU time (user + system) of every process of the start (npm, node, ...) until it was ready. */
  cpuMs: number;
}

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * CPU seconds spent so far by every process in a process group (Linux /proc). Wall time on a machine
 * shared with other work says as much about the neighbours as about the start; CPU time does not.
 */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name (which may hold spaces), from the 3rd: state, ppid, pgrp, ...,
      // utime, stime, then cutime, cstime: the CPU of children already waited for (npm ci's processes
      // during a first start), which no live process would show any more.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // the process ended meanwhile
    }
  }
  return (ticks / ticksPerSecond) * 1000;
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

async function startOnce(
  cwd: string,
  prefix: string,
  timeoutMs: number,
  command: string[] = ["npm", "start"],
): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  const [file = "npm", ...args] = command;
  const child = spawn(file, args, {
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
    const readyMs = performance.now() - started;
    return { readyMs, cpuMs: child.pid === undefined ? Number.NaN : groupCpuMs(child.pid) };
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

const median = (values: number[]) => percentile(values, 50);
const secs = (ms: number) => round(ms / 1000, 2);

/** What `npm start` ran before it started compiled output: tsx compiling the TypeScript at start. */
const TSX_START = [process.execPath, "--import", "tsx", "src/cli/main.ts", "start"];
/** What the container images run: the compiled CLI, without npm. */
const DIST_START = [process.execPath, "--enable-source-maps", "dist/cli.js", "start"];

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
  const out: Record<string, unknown> = {
    commit,
    loadAverage: loadavg().map((l) => round(l, 1)),
    cores: cpus().length,
  };
  const rows: (string | number)[][] = [];
  const row = (name: string, samples: Run[]) => {
    rows.push([
      name,
      samples.length,
      secs(median(samples.map((r) => r.readyMs))),
      samples.map((r) => secs(r.readyMs)).join(", "),
      secs(median(samples.map((r) => r.cpuMs))),
    ]);
    return {
      runs: samples.map((r) => ({ readyMs: round(r.readyMs, 0), cpuMs: round(r.cpuMs, 0) })),
      medianReadyMs: round(median(samples.map((r) => r.readyMs)), 0),
      medianCpuMs: round(median(samples.map((r) => r.cpuMs)), 0),
    };
  };
  try {
    // Interleaved, so that both see the same load from whatever else runs on the machine.
    const installed: Run[] = [];
    const compiled: Run[] = [];
    const sources: Run[] = [];
    for (let i = 0; i < runs; i++) {
      installed.push(await startOnce(repoRoot, prefix, 120_000));
      compiled.push(await startOnce(repoRoot, prefix, 120_000, DIST_START));
      sources.push(await startOnce(repoRoot, prefix, 120_000, TSX_START));
    }
    out.installed = row("installed checkout: npm start", installed);
    out.compiled = row("installed checkout: node dist/cli.js start (the images)", compiled);
    out.tsxSources = row("installed checkout: tsx on the sources (npm start before)", sources);
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
          first: row("fresh clone: first npm start (install and build included)", [first]),
          second: row("fresh clone: second npm start", [again]),
          trackedFilesChanged: dirty === "" ? [] : dirty.split("\n"),
        };
        say(json, `fresh clone of ${commit}: git status after two starts: ${dirty === "" ? "clean" : dirty}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    say(
      json,
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} on ${cpus().length} cores (wall times grow with it; CPU times much less)`,
    );
    say(json, table(["to /readyz 200", "runs", "median s", "each s", "median CPU s"], rows));
  } finally {
    await dropKeys(prefix);
  }
  return out;
}
