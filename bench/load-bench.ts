import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../src/redis/private-redis.ts";
import { Accounting, type AccountingReport, dropPrefix, formatReport } from "../test/helpers/accounting.ts";
import { parseBlock, type SseEvent } from "../test/helpers/webchat-client.ts";
import { percentile, round, say, table } from "./stats.ts";

/**
 * Load and soak through the whole service as a customer sees it: `npm start` (gateway + worker in one
 * process, tiny model, real Redis) in a child process, many web chat conversations each holding one
 * event stream and asking one question after another with no pause (a closed loop), for a fixed time.
 *
 * Flags (after `npm run bench --`): `--load-seconds` (60), `--load-conversations` (200),
 * `--soak-seconds` (600), `--soak-conversations` (half the load's). Figures: messages per second,
 * p50/p99 POST-to-first-token and POST-to-reply, errors, the accounting (lost, duplicated), and the
 * service's heap and RSS at start and end of each phase.
 */

const QUESTIONS = [
  "How do I reset my password?",
  "What payment methods do you accept?",
  "How long does shipping take?",
  "How do I return an item?",
  "My thermostat shows an error code, what now?",
  "Can I change my billing address?",
];
const SERVICE_ENV = {
  LLM_SEQUENCES: "16",
  MAX_ANSWER_TOKENS: "32",
  LLM_IGNORE_EOS: "true",
  LLM_CONTEXT_SIZE: "2048",
  LLM_THREADS: "1",
  LLM_GPU: "false",
  LLM_TEMPERATURE: "0.8",
  RETRIEVAL_TOKEN_BUDGET: "120",
  RATE_LIMIT_USER_PER_MINUTE: "0",
  RATE_LIMIT_TENANT_PER_MINUTE: "0",
  RATE_LIMIT_IP_PER_MINUTE: "0",
  KNOWLEDGE_WATCH: "false",
  LOG_LEVEL: "warn",
};

function flag(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

interface Memory {
  heapMb: number;
  rssMb: number;
}

/** The service's own memory, from its Prometheus default metrics. */
async function serviceMemory(baseUrl: string): Promise<Memory> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    heapMb: round(read("nodejs_heap_size_used_bytes") / 2 ** 20),
    rssMb: round(read("process_resident_memory_bytes") / 2 ** 20),
  };
}

/** One conversation's event stream, dispatching each event to whoever waits for that message. */
class EventStream {
  readonly #controller = new AbortController();
  readonly #listeners = new Map<string, (e: SseEvent, at: number) => void>();
  /** Events that arrived before their message's listener (the answer can start before the POST returns). */
  readonly #early = new Map<string, { e: SseEvent; at: number }[]>();
  readonly opened: Promise<void>;
  readonly seen: SseEvent[] = [];

  constructor(baseUrl: string, conversationId: string, token: string) {
    this.opened = this.#run(`${baseUrl}/webchat/v1/conversations/${conversationId}/events`, token);
  }

  on(messageId: string, listener: (e: SseEvent, at: number) => void): void {
    this.#listeners.set(messageId, listener);
    for (const { e, at } of this.#early.get(messageId) ?? []) listener(e, at);
    this.#early.delete(messageId);
  }

  close(): void {
    this.#controller.abort();
  }

  async #run(url: string, token: string): Promise<void> {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: this.#controller.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
    const body = res.body;
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const event = parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (!event) continue;
            if (event.event !== "token") this.seen.push(event);
            const id = String(event.data.messageId);
            const listener = this.#listeners.get(id);
            if (listener) listener(event, performance.now());
            else this.#early.set(id, [...(this.#early.get(id) ?? []), { e: event, at: performance.now() }]);
          }
        }
      } catch {
        // Aborted at the end of the run.
      }
    })();
  }
}

interface PhaseResult {
  phase: string;
  conversations: number;
  seconds: number;
  messages: number;
  perSecond: number;
  firstP50: number;
  firstP99: number;
  replyP50: number;
  replyP99: number;
  errors: Record<string, number>;
  accounting: AccountingReport;
  memoryStart: Memory;
  memoryEnd: Memory;
  /** Sampled every 15 s during the phase, to show the trend rather than two points. */
  memorySamples: Memory[];
}

/** Runs `conversations` closed loops for `seconds`, then waits for every accepted message to finish. */
async function phase(
  name: string,
  baseUrl: string,
  redis: Redis,
  prefix: string,
  conversations: number,
  seconds: number,
): Promise<PhaseResult> {
  const accounting = new Accounting(redis, prefix);
  const first: number[] = [];
  const total: number[] = [];
  const errors: Record<string, number> = {};
  const count = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const memoryStart = await serviceMemory(baseUrl);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const streams: EventStream[] = [];
  const memorySamples: Memory[] = [memoryStart];
  const sampler = setInterval(() => {
    void serviceMemory(baseUrl).then(
      (m) => memorySamples.push(m),
      () => undefined,
    );
  }, 15_000);

  const loop = async (n: number): Promise<void> => {
    const created = await fetch(`${baseUrl}/webchat/v1/conversations`, { method: "POST" });
    if (created.status !== 201) return count(`create_${created.status}`);
    const { conversationId, token } = (await created.json()) as { conversationId: string; token: string };
    const stream = new EventStream(baseUrl, conversationId, token);
    streams.push(stream);
    await stream.opened;
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now();
      let firstAt = 0;
      let endAt = 0;
      let done: (e: SseEvent) => void = () => undefined;
      const terminal = new Promise<SseEvent>((r) => {
        done = r;
      });
      const clientMessageId = randomUUID();
      const res = await fetch(`${baseUrl}/webchat/v1/conversations/${conversationId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ text: QUESTIONS[(n + i) % QUESTIONS.length], clientMessageId }),
      });
      const messageId = await accounting.acceptWebchat(res, conversationId);
      if (!messageId) {
        count(`refused_${res.status}`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      stream.on(messageId, (e, at) => {
        if (e.event === "token" && firstAt === 0) firstAt = at;
        if (e.event === "reply" || e.event === "error") {
          endAt = at;
          done(e);
        }
      });
      const end = await terminal;
      if (end.event === "error") count(String(end.data.code));
      else {
        first.push((firstAt || endAt) - t0);
        total.push(endAt - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: conversations }, (_, n) => loop(n).catch(() => count("client"))));
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  for (const s of streams) {
    accounting.observe(s.seen);
    s.close();
  }
  const report = await accounting.settle(30_000);
  const memoryEnd = await serviceMemory(baseUrl);
  memorySamples.push(memoryEnd);
  return {
    phase: name,
    conversations,
    seconds: round(elapsed),
    messages: report.answered + report.failed,
    perSecond: round((report.answered + report.failed) / elapsed),
    firstP50: round(percentile(first, 50)),
    firstP99: round(percentile(first, 99)),
    replyP50: round(percentile(total, 50)),
    replyP99: round(percentile(total, 99)),
    errors,
    accounting: report,
    memoryStart,
    memoryEnd,
    memorySamples,
  };
}

async function startService(env: Record<string, string>): Promise<{ child: ChildProcess; baseUrl: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return { child, baseUrl };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  throw new Error("the service was not ready within 60 s");
}

function flagList(name: string): number[] | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  return (args[i + 1] ?? "")
    .split(",")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

export async function runLoadBench(json: boolean): Promise<Record<string, unknown>> {
  // `--closed 16,64`: the service's own cost per message instead (retrieval-only closed loops, Redis
  // commands per message, memory per open stream): see bench/closed-loop.ts.
  const closed = flagList("closed");
  if (closed) {
    const { runClosedLoopBench } = await import("./closed-loop.ts");
    return runClosedLoopBench(json, closed, flag("closed-seconds", 20), flag("streams", 1000));
  }
  const loadSeconds = flag("load-seconds", 60);
  const loadConversations = flag("load-conversations", 200);
  const soakSeconds = flag("soak-seconds", 600);
  const soakConversations = flag("soak-conversations", Math.max(1, Math.round(loadConversations / 2)));
  const { ensureTinyModel } = await import("../src/tiny-model/tiny-model.ts");
  const prefix = `bench-${randomUUID()}`;
  const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
  const env = {
    ...SERVICE_ENV,
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    MODEL_PATH: await ensureTinyModel(),
    KNOWLEDGE_DIR: resolve("knowledge"),
  };
  const redis = new Redis(redisUrl);
  const { child, baseUrl } = await startService(env);
  const results: PhaseResult[] = [];
  try {
    // Warm-up: the first answers pay for lazy initialisation.
    await phase("warm-up", baseUrl, redis, prefix, 4, 2);
    say(json, `load: ${loadConversations} conversations for ${loadSeconds} s ...`);
    results.push(await phase("load", baseUrl, redis, prefix, loadConversations, loadSeconds));
    if (soakSeconds > 0) {
      say(json, `soak: ${soakConversations} conversations for ${soakSeconds} s ...`);
      results.push(await phase("soak", baseUrl, redis, prefix, soakConversations, soakSeconds));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
  say(
    json,
    "\nWeb chat under load: closed loops (one question after another), tiny model, 16 sequences, 32 tokens",
  );
  say(
    json,
    table(
      [
        "phase",
        "conv",
        "s",
        "msgs",
        "msg/s",
        "first p50",
        "first p99",
        "reply p50",
        "reply p99",
        "errors",
        "lost",
        "dup",
        "heap MB start>end",
        "RSS MB start>end",
      ],
      results.map((r) => [
        r.phase,
        r.conversations,
        r.seconds,
        r.messages,
        r.perSecond,
        r.firstP50,
        r.firstP99,
        r.replyP50,
        r.replyP99,
        Object.values(r.errors).reduce((a, b) => a + b, 0),
        r.accounting.lost,
        r.accounting.duplicated,
        `${r.memoryStart.heapMb}>${r.memoryEnd.heapMb}`,
        `${r.memoryStart.rssMb}>${r.memoryEnd.rssMb}`,
      ]),
    ),
  );
  for (const r of results) say(json, `${r.phase}: ${formatReport(r.accounting)}`);
  return {
    model: "tiny random-weight GGUF (2 layers, 64 wide), CPU, 1 thread, 16 sequences, 32 tokens per answer",
    flags: { loadSeconds, loadConversations, soakSeconds, soakConversations },
    phases: results.map(({ accounting, ...r }) => ({
      ...r,
      accounting: { ...accounting, problems: accounting.problems.slice(0, 10) },
    })),
  };
}
