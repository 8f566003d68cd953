/**
 * Server-sent events over fetch. EventSource cannot send an Authorization header, so the widget reads
 * the stream itself; it keeps EventSource's reconnect rules: remember the last `id:`, send it back as
 * `Last-Event-ID` when reconnecting, honour `retry:`. The server resumes after that id, so text that was
 * already shown is not sent again.
 */

export interface StreamEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** Parses `text/event-stream` chunks (any split) into events, per the HTML standard's rules. */
export class EventStreamParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;
  /** The `retry:` the server asked for, in ms. */
  retryMs: number | undefined;

  constructor(private readonly onEvent: (event: StreamEvent) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      if (nl < 0) return;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith("\r\n", nl) ? 2 : 1));
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0)
        this.onEvent({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

export interface EventStreamOptions {
  url: string;
  headers: Record<string, string>;
  /** Resume after this id (e.g. from a previous page load). */
  lastEventId?: string;
  onEvent(event: StreamEvent): void;
  /** Connected (again). */
  onOpen?(): void;
  /** The connection dropped; a reconnect is scheduled. */
  onDrop?(): void;
  /** The server refused the stream (4xx): reconnecting would not help. */
  onRefused?(status: number): void;
  /**
   * Events after which the resume position does not move (an answer's final event). Resuming after a
   * final event makes the gateway wait on that finished answer; resuming just before it costs one
   * repeated final event, which the widget ignores, and the stream then goes on to later answers.
   */
  holdsPosition?(event: StreamEvent): boolean;
}

/** A self-reconnecting event stream; `close()` ends it for good. */
export class EventStream {
  private readonly abort = new AbortController();
  private lastId: string | undefined;
  private failures = 0;

  constructor(private readonly options: EventStreamOptions) {
    this.lastId = options.lastEventId;
    void this.run();
  }

  /** The id of the last event handled. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  close(): void {
    this.abort.abort();
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    let retryMs = 1000;
    while (!signal.aborted) {
      const parser = new EventStreamParser((e) => {
        if (e.id !== undefined && !this.options.holdsPosition?.(e)) this.lastId = e.id;
        this.options.onEvent(e);
      });
      try {
        const headers: Record<string, string> = { ...this.options.headers, accept: "text/event-stream" };
        if (this.lastId !== undefined) headers["last-event-id"] = this.lastId;
        const res = await fetch(this.options.url, { headers, signal, cache: "no-store" });
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          this.options.onRefused?.(res.status);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`status ${res.status}`);
        this.failures = 0;
        this.options.onOpen?.();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch {
        // A network error or an abort; the loop condition tells them apart.
      }
      if (signal.aborted) return;
      retryMs = parser.retryMs ?? retryMs;
      this.failures++;
      this.options.onDrop?.();
      // Back off on repeated failures, capped so that a returning network is noticed soon.
      const delay = Math.min(15_000, retryMs * 2 ** Math.min(this.failures - 1, 4));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
