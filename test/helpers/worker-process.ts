import { type ChildProcess, spawn } from "node:child_process";

/** Starts `npm start -- worker` as a real child process with the given settings. */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start", "worker"], {
    env: { ...process.env, ...env, LOG_LEVEL: env.LOG_LEVEL ?? "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** Waits until `/readyz` lists `count` ready workers. */
export async function waitForWorkers(baseUrl: string, count: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/readyz`);
    const body = (await res.json()) as { workers: { state: string }[] };
    if (body.workers.filter((w) => w.state === "ready").length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${count} workers ready after ${timeoutMs} ms`);
}

export async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
