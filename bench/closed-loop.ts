import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../src/redis/private-redis.ts";
import { Accounting, dropPrefix } from "../test/helpers/accounting.ts";
import { parseBlock, type SseEvent } from "../test/helpers/webchat-client.ts";
import { percentile, round, say, table } from "./stats.ts";

/**
 * The service's own cost per message, in retrieval-only mode (no model: what is measured is the gateway,
 * the queue, the worker loop and Redis), through `npm start` in a child process:
 * - closed loops: N web chat conversations, each asking, waiting for its reply, asking again, for a fixed
 *   time; replies per second, POST (accept) and POST-to-reply latency p50/p99;
 * - Redis commands per message, from the POST to the last SSE event, read off MONITOR and grouped by the
 *   connection that sent them (MULTI…EXEC counted as one round trip; pipelines cannot be told apart);
 * - the gateway's RSS with many open event streams.
 *
 * `npm run bench -- --only load --closed 16,64 [--closed-seconds 20] [--streams 1000] [--json]`.
 */

const QUESTIONS = [
  "How do I reset my password?",
  "What payment methods do you accept?",
  "How long does shipping take?",
  "How do I return an item?",
  "My thermostat shows an error code, what now?",
  "Can I change my billing address?",
];

const ENV = {
  RATE_LIMIT_USER_PER_MINUTE: "0",
  RATE_LIMIT_TENANT_PER_MINUTE: "0",
  RATE_LIMIT_IP_PER_MINUTE: "0",
  QUEUE_MAX_DEPTH: "100000",
  KNOWLEDGE_WATCH: "false",
  LOG_LEVEL: "warn",
};

export interface Service {
  child: ChildProcess;
  baseUrl: string;
  pid: number;
}

export async function startService(env: Record<string, string>, role = "all"): Promise<Service> {
  // BENCH_NODE_ARGS: extra node flags for the service (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/cli/main.ts", "start", role], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const body = await fetch(`${baseUrl}/readyz`).then(
      async (r) => (r.status === 200 ? ((await r.json()) as { workers?: { state: string }[] }) : undefined),
      () => undefined,
    );
    if (body?.workers?.some((w) => w.state === "ready")) return { child, baseUrl, pid: child.pid ?? 0 };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("the service was not ready within 60 s");
}

/** One conversation's event stream over fetch, dispatching events by message id. */
class Stream {
  readonly #controller = new AbortController();
  readonly #waiting = new Map<string, (e: SseEvent, at: number) => void>();
  readonly #early = new Map<string, { e: SseEvent; at: number }[]>();
  readonly seen: SseEvent[] = [];
  readonly opened: Promise<void>;

  constructor(url: string, token: string) {
    this.opened = this.#open(url, token);
  }

  on(messageId: string, fn: (e: SseEvent, at: number) => void): void {
    this.#waiting.set(messageId, fn);
    for (const { e, at } of this.#early.get(messageId) ?? []) fn(e, at);
    this.#early.delete(messageId);
  }

  close(): void {
    this.#controller.abort();
  }

  async #open(url: string, token: string): Promise<void> {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: this.#controller.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
    const reader = res.body.getReader();
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const event = parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (!event) continue;
            const at = performance.now();
            if (event.event !== "token") this.seen.push(event);
            const id = String(event.data.messageId);
            const fn = this.#waiting.get(id);
            if (fn) fn(event, at);
            else this.#early.set(id, [...(this.#early.get(id) ?? []), { e: event, at }]);
          }
        }
      } catch {
        // Aborted at the end of the run.
      }
    })();
  }
}

export interface ClosedLoopResult {
  /** The service process's CPU time (user + system) per reply: what the gateway and worker cost. */
  serviceCpuMsPerReply: number;
  /** The Redis server's CPU time per reply (INFO CPU; counts whatever else that server serves). */
  redisCpuMsPerReply: number;
  conversations: number;
  seconds: number;
  replies: number;
  repliesPerSecond: number;
  acceptP50: number;
  acceptP99: number;
  replyP50: number;
  replyP99: number;
  errors: Record<string, number>;
  lost: number;
  duplicated: number;
}

interface Conversation {
  id: string;
  token: string;
  stream: Stream;
}

async function openConversation(baseUrl: string): Promise<Conversation> {
  const created = await fetch(`${baseUrl}/webchat/v1/conversations`, { method: "POST" });
  if (created.status !== 201) throw new Error(`create: ${created.status}`);
  const { conversationId, token } = (await created.json()) as { conversationId: string; token: string };
  const stream = new Stream(`${baseUrl}/webchat/v1/conversations/${conversationId}/events`, token);
  await stream.opened;
  return { id: conversationId, token, stream };
}

/** Asks one question and resolves with the POST's and the reply's latency (ms), or an error code. */
async function ask(
  baseUrl: string,
  c: Conversation,
  text: string,
  accounting: Accounting,
): Promise<{ acceptMs: number; replyMs: number } | { error: string }> {
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}/webchat/v1/conversations/${c.id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${c.token}` },
    body: JSON.stringify({ text, clientMessageId: randomUUID() }),
  });
  const acceptMs = performance.now() - t0;
  const messageId = await accounting.acceptWebchat(res, c.id);
  if (!messageId) return { error: `refused_${res.status}` };
  const end = await new Promise<{ e: SseEvent; at: number }>((resolve) => {
    c.stream.on(messageId, (e, at) => {
      if (e.event === "reply" || e.event === "error") resolve({ e, at });
    });
  });
  if (end.e.event === "error") return { error: String(end.e.data.code) };
  return { acceptMs, replyMs: end.at - t0 };
}

export async function closedLoop(
  service: Service,
  redis: Redis,
  prefix: string,
  conversations: number,
  seconds: number,
): Promise<ClosedLoopResult> {
  const accounting = new Accounting(redis, prefix);
  const convs = await Promise.all(
    Array.from({ length: conversations }, () => openConversation(service.baseUrl)),
  );
  const accept: number[] = [];
  const reply: number[] = [];
  const errors: Record<string, number> = {};
  const cpuBefore = await cpuMsOf(service.pid);
  const redisBefore = await redisCpuMs(redis);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    convs.map(async (c, n) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const r = await ask(service.baseUrl, c, QUESTIONS[(n + i) % QUESTIONS.length] as string, accounting);
        if ("error" in r) errors[r.error] = (errors[r.error] ?? 0) + 1;
        else {
          accept.push(r.acceptMs);
          reply.push(r.replyMs);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuMs = (await cpuMsOf(service.pid)) - cpuBefore;
  const redisMs = (await redisCpuMs(redis)) - redisBefore;
  for (const c of convs) {
    accounting.observe(c.stream.seen);
    c.stream.close();
  }
  const report = await accounting.settle(30_000);
  return {
    serviceCpuMsPerReply: round(cpuMs / Math.max(1, reply.length), 3),
    redisCpuMsPerReply: round(redisMs / Math.max(1, reply.length), 3),
    conversations,
    seconds: round(elapsed),
    replies: reply.length,
    repliesPerSecond: round(reply.length / elapsed),
    acceptP50: round(percentile(accept, 50), 2),
    acceptP99: round(percentile(accept, 99), 2),
    replyP50: round(percentile(reply, 50), 2),
    replyP99: round(percentile(reply, 99), 2),
    errors,
    lost: report.lost,
    duplicated: report.duplicated,
  };
}

/** Redis commands one message costs, by connection name, from MONITOR over `messages` sequential ones. */
export async function commandsPerMessage(
  service: Service,
  redisUrl: string,
  prefix: string,
  messages = 20,
): Promise<{
  perMessage: number;
  roundTrips: number;
  byConnection: Record<string, number>;
  byCommand: Record<string, number>;
}> {
  const admin = new Redis(redisUrl);
  const monitor = new Redis(redisUrl);
  const c = await openConversation(service.baseUrl);
  const accounting = new Accounting(admin, prefix);
  // Warm the conversation (first message loads lazily initialised parts).
  await ask(service.baseUrl, c, "warm up", accounting);
  // Only the service's own connections count (the Redis may serve others): its sockets, by process id.
  const own = await socketsOf(service.pid);
  const names = new Map<string, string>();
  for (const line of String(await admin.call("CLIENT", "LIST")).split("\n")) {
    const addr = /addr=(\S+)/.exec(line)?.[1];
    const name = /name=(\S*)/.exec(line)?.[1];
    if (addr && own.has(addr.split(":").pop() ?? ""))
      names.set(addr, (name || "unnamed").replace(/^[^:]*:\{[^}]*\}:.*$/, "bullmq"));
  }
  const lines: string[] = [];
  const m = await monitor.monitor();
  m.on("monitor", (_time: string, args: string[], source: string) => {
    lines.push(`${source} ${args[0]?.toUpperCase() ?? ""}`);
  });
  for (let i = 0; i < messages; i++)
    await ask(service.baseUrl, c, QUESTIONS[i % QUESTIONS.length] as string, accounting);
  await new Promise((r) => setTimeout(r, 50));
  m.disconnect();
  c.stream.close();
  const byConnection: Record<string, number> = {};
  const byCommand: Record<string, number> = {};
  let inMulti = new Set<string>();
  let roundTrips = 0;
  for (const line of lines) {
    const [source = "", command = ""] = line.split(" ");
    const name = names.get(source);
    if (name === undefined) continue;
    byConnection[name] = (byConnection[name] ?? 0) + 1;
    byCommand[command] = (byCommand[command] ?? 0) + 1;
    if (command === "MULTI") inMulti.add(source);
    else if (command === "EXEC") {
      inMulti.delete(source);
      roundTrips += 1;
    } else if (!inMulti.has(source)) roundTrips += 1;
  }
  inMulti = new Set();
  const per = (n: number) => round(n / messages, 1);
  admin.disconnect();
  return {
    perMessage: per(Object.values(byConnection).reduce((a, b) => a + b, 0)),
    roundTrips: per(roundTrips),
    byConnection: Object.fromEntries(Object.entries(byConnection).map(([k, v]) => [k, per(v)])),
    byCommand: Object.fromEntries(
      Object.entries(byCommand)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, per(v)]),
    ),
  };
}

/** The Redis server's CPU time so far, in ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const read = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (read("used_cpu_user") + read("used_cpu_sys")) * 1000;
}

/** The local ports of a process's TCP connections (from `ss`), to tell its Redis connections apart. */
async function socketsOf(pid: number): Promise<Set<string>> {
  const { execFileSync } = await import("node:child_process");
  const out = execFileSync("ss", ["-tnpH"], { encoding: "utf8" });
  const ports = new Set<string>();
  for (const line of out.split("\n")) {
    if (!line.includes(`pid=${pid},`)) continue;
    const local = line.trim().split(/\s+/)[3] ?? "";
    ports.add(local.split(":").pop() ?? "");
  }
  return ports;
}

/** CPU time a process has used so far, in ms (utime + stime from /proc; clock ticks of 10 ms). */
async function cpuMsOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** The gateway's RSS before and with `count` open event streams (one conversation each). */
export async function streamsMemory(
  service: Service,
  count: number,
): Promise<{ streams: number; rssBeforeMb: number; rssWithMb: number; addedMb: number }> {
  if (global.gc) global.gc();
  const before = await rssOf(service.pid);
  const convs: Conversation[] = [];
  for (let i = 0; i < count; i += 50) {
    convs.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => openConversation(service.baseUrl)),
      )),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const withStreams = await rssOf(service.pid);
  for (const c of convs) c.stream.close();
  return {
    streams: count,
    rssBeforeMb: before,
    rssWithMb: withStreams,
    addedMb: round(withStreams - before),
  };
}

export async function runClosedLoopBench(
  json: boolean,
  concurrencies: number[],
  seconds: number,
  streams: number,
): Promise<Record<string, unknown>> {
  const prefix = `bench-${randomUUID()}`;
  const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
  const env = {
    ...ENV,
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    KNOWLEDGE_DIR: resolve("knowledge"),
  };
  const redis = new Redis(redisUrl);
  const service = await startService(env);
  const runs: ClosedLoopResult[] = [];
  let commands: Awaited<ReturnType<typeof commandsPerMessage>> | undefined;
  let memory: Awaited<ReturnType<typeof streamsMemory>> | undefined;
  try {
    await closedLoop(service, redis, prefix, 4, 2); // warm-up
    commands = await commandsPerMessage(service, redisUrl, prefix);
    for (const n of concurrencies) {
      say(json, `closed loop: ${n} conversations for ${seconds} s ...`);
      runs.push(await closedLoop(service, redis, prefix, n, seconds));
    }
    if (streams > 0) memory = await streamsMemory(service, streams);
  } finally {
    service.child.kill("SIGTERM");
    await new Promise((r) => service.child.once("exit", r));
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
  say(json, "\nRetrieval-only web chat, closed loops (ask, wait for the reply, ask again), sample folder");
  say(
    json,
    table(
      [
        "conv",
        "s",
        "replies",
        "replies/s",
        "accept p50",
        "accept p99",
        "reply p50",
        "reply p99",
        "service CPU ms/reply",
        "Redis CPU ms/reply",
        "errors",
        "lost",
        "dup",
      ],
      runs.map((r) => [
        r.conversations,
        r.seconds,
        r.replies,
        r.repliesPerSecond,
        r.acceptP50,
        r.acceptP99,
        r.replyP50,
        r.replyP99,
        r.serviceCpuMsPerReply,
        r.redisCpuMsPerReply,
        Object.values(r.errors).reduce((a, b) => a + b, 0),
        r.lost,
        r.duplicated,
      ]),
    ),
  );
  if (commands) {
    say(
      json,
      `\nRedis per message (POST to last SSE event): ${commands.perMessage} commands, ~${commands.roundTrips} round trips`,
    );
    say(json, `  by connection: ${JSON.stringify(commands.byConnection)}`);
    say(json, `  by command: ${JSON.stringify(commands.byCommand)}`);
  }
  if (memory)
    say(
      json,
      `\n${memory.streams} open event streams: gateway RSS ${memory.rssBeforeMb} -> ${memory.rssWithMb} MB (+${memory.addedMb} MB)`,
    );
  return { mode: "retrieval-only, npm start (gateway + worker in one process)", runs, commands, memory };
}
