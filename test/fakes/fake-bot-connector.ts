import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One call the bot made to the connector, as the connector received it (serialised JSON, parsed back). */
export interface ReceivedActivity {
  /** Id the fake gave the activity (returned to the bot as `{ id }`). */
  id: string;
  method: "POST" | "PUT";
  conversationId: string;
  /** The `{activityId}` path segment of a reply or an update, when there was one. */
  replyToId?: string;
  authorization?: string;
  /** When the call arrived (performance.now()). */
  at: number;
  // biome-ignore lint/suspicious/noExplicitAny: the fake records whatever JSON the SDK serialised.
  activity: Record<string, any>;
}

/** A scripted failure: the next `times` calls answer `status` (with `Retry-After` when given). */
export interface ConnectorFailure {
  status: number;
  times: number;
  retryAfterSeconds?: number;
  /** Only calls whose activity type is this one fail (e.g. "message" to spare typing indicators). */
  activityType?: string;
}

type Listener = (received: ReceivedActivity) => void;

/**
 * A Bot Framework connector on 127.0.0.1 that speaks the v3 REST protocol the real ConnectorClient
 * uses: `POST v3/conversations/{id}/activities[/{replyToId}]` and `PUT .../activities/{id}`. It records
 * every call after JSON serialisation, so what the tests see is what Teams would have received.
 */
export class FakeBotConnector {
  readonly received: ReceivedActivity[] = [];
  /** Every activities call, failed ones included (times of arrival, performance.now()). */
  readonly attempts: number[] = [];
  /** Every activities call with its activity type and the status it got. */
  readonly tries: { at: number; type: string; status: number }[] = [];
  private server: Server | undefined;
  private failures: ConnectorFailure[] = [];
  private listeners = new Set<Listener>();
  private port = 0;

  /** Base URL to put in `activity.serviceUrl` (ends with a slash, as Teams' does). */
  get serviceUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The origin to put on TEAMS_SERVICE_URL_ALLOWLIST. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Makes the next calls fail; failures queue in order. */
  fail(failure: ConnectorFailure): void {
    this.failures.push({ ...failure });
  }

  /** Forgets scripted failures that have not happened yet. */
  clearFailures(): void {
    this.failures = [];
  }

  /** Calls for one conversation, in arrival order. */
  for(conversationId: string): ReceivedActivity[] {
    return this.received.filter((r) => r.conversationId === conversationId);
  }

  /** Resolves with the first call (past or future) that matches. */
  waitFor(match: (r: ReceivedActivity) => boolean, timeoutMs = 15_000): Promise<ReceivedActivity> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`fake connector: no matching activity within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener: Listener = (r) => {
        if (!match(r)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(r);
      };
      this.listeners.add(listener);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match || (req.method !== "POST" && req.method !== "PUT")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "NotFound", message: `${req.method} ${url.pathname}` } }));
      return;
    }
    // biome-ignore lint/suspicious/noExplicitAny: parsed request JSON, inspected by tests.
    let activity: Record<string, any>;
    try {
      activity = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "BadArgument", message: "body is not JSON" } }));
      return;
    }
    this.attempts.push(at);
    const failure = this.failures.find(
      (f) => f.activityType === undefined || f.activityType === activity.type,
    );
    if (failure) {
      failure.times -= 1;
      if (failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (failure.retryAfterSeconds !== undefined) headers["retry-after"] = String(failure.retryAfterSeconds);
      this.tries.push({ at, type: String(activity.type), status: failure.status });
      res.writeHead(failure.status, headers);
      res.end(JSON.stringify({ error: { code: "Throttled", message: `scripted ${failure.status}` } }));
      return;
    }
    const conversationId = decodeURIComponent(match[1] ?? "");
    const pathId = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const id = req.method === "PUT" && pathId ? pathId : randomUUID();
    const received: ReceivedActivity = {
      id,
      method: req.method,
      conversationId,
      at,
      activity,
      ...(pathId === undefined ? {} : { replyToId: pathId }),
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
    };
    this.received.push(received);
    this.tries.push({ at, type: String(activity.type), status: 200 });
    for (const listener of [...this.listeners]) listener(received);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id }));
  }
}
