import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One Web API call as the fake received it. */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** Bearer token the client sent. */
  token: string | undefined;
  /** performance.now() when the request arrived. */
  at: number;
  /** HTTP status the fake answered with. */
  status: number;
  /** The `ok` field of the answer (false for refusals and invalid calls). */
  ok: boolean;
}

export interface FakeSlackApiOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** URL returned by apps.connections.open (Socket Mode). */
  socketUrl?: string;
}

/** What a user would see for one bot message in a thread. */
export interface RenderedMessage {
  ts: string;
  channel: string;
  threadTs: string | undefined;
  /** Final text: posted/updated text, or the concatenation of the stream's markdown. */
  text: string;
  blocks: unknown[];
  streamed: boolean;
  /** Number of Web API writes that built it (post/start + updates/appends + stop). */
  writes: number;
  /** The stream was stopped, or the message was posted/updated with blocks (a finished answer). */
  complete: boolean;
  /** performance.now() of the write that completed it. */
  completedAt: number | undefined;
}

const JSON_FIELDS = new Set(["blocks", "attachments", "chunks", "metadata"]);

/**
 * A fake Slack Web API on 127.0.0.1 that speaks the real protocol (form or JSON bodies, Bearer token,
 * `{ok, ...}` answers, HTTP 429 with Retry-After), so the real Bolt / @slack/web-api client runs
 * unmodified against it. It records every call and can rate-limit or refuse chosen methods.
 */
export class FakeSlackApi extends EventEmitter {
  readonly calls: RecordedCall[] = [];
  readonly options: Required<Omit<FakeSlackApiOptions, "socketUrl">> & { socketUrl?: string };
  #server: Server;
  #port = 0;
  #tsCounter = 0;
  readonly #rateLimits = new Map<string, { remaining: number; retryAfter: number }>();
  readonly #refusals = new Map<string, string>();
  readonly #delays = new Map<string, number>();

  private constructor(options: FakeSlackApiOptions) {
    super();
    this.options = {
      botToken: "xoxb-test-token",
      appToken: "xapp-test-token",
      teamId: "T061EG9R6",
      botUserId: "U0LAN0Z89",
      botId: "B0LAN0Z89",
      ...options,
    };
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
  }

  static async start(options: FakeSlackApiOptions = {}): Promise<FakeSlackApi> {
    const fake = new FakeSlackApi(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  /** SLACK_API_URL for the client. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/api/`;
  }

  /** The next `times` calls of `method` get HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, retryAfterSeconds = 1, times = 1): void {
    this.#rateLimits.set(method, { remaining: times, retryAfter: retryAfterSeconds });
  }

  /** Every call of `method` answers `{ok:false, error}` until `allow(method)`. */
  refuse(method: string, error = "unknown_method"): void {
    this.#refusals.set(method, error);
  }

  allow(method: string): void {
    this.#refusals.delete(method);
  }

  /** Adds latency to one method (a slow Slack). */
  delay(method: string, ms: number): void {
    this.#delays.set(method, ms);
  }

  /** Successful calls of one method. */
  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && c.ok);
  }

  reset(): void {
    this.calls.length = 0;
    this.#rateLimits.clear();
    this.#refusals.clear();
    this.#delays.clear();
  }

  /** Resolves once `check` returns a value other than undefined/false; rejects after `timeoutMs`. */
  async waitFor<T>(check: (fake: FakeSlackApi) => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check(this);
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`fake Slack API: condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Bot messages as a user would see them now, in creation order. */
  messages(filter: { channel?: string; threadTs?: string } = {}): RenderedMessage[] {
    const byTs = new Map<string, RenderedMessage>();
    for (const call of this.calls) {
      if (!call.ok) continue;
      const a = call.args;
      const text = typeof a.text === "string" ? a.text : "";
      const md = typeof a.markdown_text === "string" ? a.markdown_text : "";
      const ts = String(a.ts ?? "");
      switch (call.method) {
        case "chat.postMessage":
        case "chat.startStream": {
          const created = (call as RecordedCall & { ts?: string }).ts ?? "";
          const complete = call.method === "chat.postMessage" && Array.isArray(a.blocks);
          byTs.set(created, {
            complete,
            completedAt: complete ? call.at : undefined,
            ts: created,
            channel: String(a.channel),
            threadTs: typeof a.thread_ts === "string" ? a.thread_ts : undefined,
            text: call.method === "chat.postMessage" ? text : md,
            blocks: Array.isArray(a.blocks) ? a.blocks : [],
            streamed: call.method === "chat.startStream",
            writes: 1,
          });
          break;
        }
        case "chat.appendStream":
        case "chat.stopStream": {
          const m = byTs.get(ts);
          if (!m) break;
          m.text += md;
          if (Array.isArray(a.blocks)) m.blocks = [...m.blocks, ...a.blocks];
          m.writes++;
          if (call.method === "chat.stopStream") {
            m.complete = true;
            m.completedAt = call.at;
          }
          break;
        }
        case "chat.update": {
          const m = byTs.get(ts);
          if (!m) break;
          m.text = text;
          if (Array.isArray(a.blocks)) {
            m.blocks = a.blocks;
            m.complete = true;
            m.completedAt ??= call.at;
          }
          m.writes++;
          break;
        }
      }
    }
    return [...byTs.values()].filter(
      (m) =>
        (filter.channel === undefined || m.channel === filter.channel) &&
        (filter.threadTs === undefined || m.threadTs === filter.threadTs),
    );
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0] ?? "";
    const args = parseArgs(raw, req.headers["content-type"]);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ")
      ? auth.slice(7)
      : typeof args.token === "string"
        ? args.token
        : undefined;
    const call: RecordedCall & { ts?: string } = { method, args, token, at, status: 200, ok: false };
    const wait = this.#delays.get(method);
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    const limit = this.#rateLimits.get(method);
    if (limit && limit.remaining > 0) {
      limit.remaining--;
      call.status = 429;
      this.calls.push(call);
      this.emit("call", call);
      res.writeHead(429, { "content-type": "application/json", "retry-after": String(limit.retryAfter) });
      res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
      return;
    }
    const body = this.#answer(method, args, token, call);
    call.ok = body.ok;
    this.calls.push(call);
    this.emit("call", call);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  #answer(method: string, args: Record<string, unknown>, token: string | undefined, call: { ts?: string }) {
    const o = this.options;
    const expected = method === "apps.connections.open" ? o.appToken : o.botToken;
    if (token !== expected) return { ok: false, error: "invalid_auth" };
    const refused = this.#refusals.get(method);
    if (refused) return { ok: false, error: refused };
    const channel = typeof args.channel === "string" ? args.channel : undefined;
    const needsChannel = method.startsWith("chat.") || method.startsWith("reactions.");
    if (needsChannel && !channel) return { ok: false, error: "channel_not_found" };
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://example.slack.com/",
          team: "Example",
          user: "supportbot",
          team_id: o.teamId,
          user_id: o.botUserId,
          bot_id: o.botId,
          is_enterprise_install: false,
        };
      case "chat.postMessage":
      case "chat.startStream": {
        if (method === "chat.startStream" && typeof args.thread_ts !== "string") {
          return { ok: false, error: "invalid_arguments" };
        }
        const ts = this.#nextTs();
        call.ts = ts;
        return {
          ok: true,
          channel,
          ts,
          message: { type: "message", text: args.text ?? "", ts, bot_id: o.botId },
        };
      }
      case "chat.update":
      case "chat.appendStream":
      case "chat.stopStream":
        if (typeof args.ts !== "string") return { ok: false, error: "message_not_found" };
        return { ok: true, channel, ts: args.ts };
      case "chat.postEphemeral":
        return { ok: true, message_ts: this.#nextTs() };
      case "chat.getPermalink":
        return {
          ok: true,
          channel,
          permalink: `https://example.slack.com/archives/${channel}/p${String(args.message_ts).replace(".", "")}`,
        };
      case "reactions.add":
      case "reactions.remove":
      case "assistant.threads.setStatus":
        return { ok: true };
      case "apps.connections.open":
        return o.socketUrl ? { ok: true, url: o.socketUrl } : { ok: false, error: "socket_mode_not_enabled" };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  #nextTs(): string {
    this.#tsCounter++;
    return `${1_700_000_000 + this.#tsCounter}.${String(this.#tsCounter).padStart(6, "0")}`;
  }
}

/** The client sends form fields (objects as JSON strings) or a JSON body. */
function parseArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if ((contentType ?? "").includes("application/json")) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(key)) {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // Not JSON: keep the string, as Slack would reject it.
      }
    }
    out[key] = value;
  }
  return out;
}
