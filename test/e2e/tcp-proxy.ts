import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The request heads of every event-stream request seen, in order (lower-cased header names kept as sent). */
  readonly streamRequests: string[];
  /** The `id:` of every event relayed on the stream before a cut. */
  readonly relayedIds: string[];
  /** Cuts the next event stream right after it relays one `token` event (a network drop mid-answer). */
  cutStreamAfterFirstToken(): void;
  /**
   * Relays the next event stream one HTTP chunk (one event) per `ms`, like a slow network, so that a
   * fast model's events do not all land in one read.
   */
  paceNextStream(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of the gateway that can drop an SSE connection at an exact point. Node writes
 * each `res.write()` of the stream as one HTTP chunk, so the relay forwards whole chunks and can cut
 * right after the chunk that carried a token event.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const streamRequests: string[] = [];
  const relayedIds: string[] = [];
  let cutArmed = false;
  let paceMs = 0;

  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => undefined);
    }
    let gate: ((data: Buffer) => void) | undefined;
    let isStream = false;
    client.on("data", (data) => {
      const text = data.toString("latin1");
      if (/^GET \S*\/events\b/.test(text)) {
        isStream = true;
        streamRequests.push(text.slice(0, text.indexOf("\r\n\r\n")));
        if (cutArmed || paceMs > 0) {
          gate = chunkGate(client, upstream, relayedIds, { cut: cutArmed, paceMs });
          cutArmed = false;
          paceMs = 0;
        }
      }
      upstream.write(data);
    });
    upstream.on("data", (data) => {
      if (gate) return gate(data);
      // Event ids of streams that are not gated count as received too: the widget may hold two streams
      // while a conversation starts, and resume from either.
      if (isStream)
        for (const m of data.toString("latin1").matchAll(/^id: ([^\r\n]+)$/gm))
          relayedIds.push(m[1] as string);
      client.write(data);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    streamRequests,
    relayedIds,
    cutStreamAfterFirstToken: () => {
      cutArmed = true;
    },
    paceNextStream: (ms) => {
      paceMs = ms;
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Relays the response head, then whole chunks: each `paceMs` apart, and with `cut`, destroys both
 * sides right after the chunk holding the first token event.
 */
function chunkGate(
  client: Socket,
  upstream: Socket,
  relayedIds: string[],
  { cut, paceMs }: { cut: boolean; paceMs: number },
): (data: Buffer) => void {
  let buffer = "";
  let headDone = false;
  let done = false;
  let sendAt = Date.now();
  const relay = (chunk: string) => {
    if (done) return;
    const id = /^id: (.+)$/m.exec(chunk)?.[1];
    if (id) relayedIds.push(id);
    client.write(Buffer.from(chunk, "latin1"));
    if (cut && chunk.includes("event: token")) {
      done = true;
      // Let the bytes reach the browser before the connection goes.
      client.end(() => {
        client.destroy();
        upstream.destroy();
      });
    }
  };
  return (data) => {
    buffer += data.toString("latin1");
    if (!headDone) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.write(Buffer.from(buffer.slice(0, end + 4), "latin1"));
      buffer = buffer.slice(end + 4);
      headDone = true;
    }
    for (;;) {
      const lineEnd = buffer.indexOf("\r\n");
      if (lineEnd < 0) return;
      const size = Number.parseInt(buffer.slice(0, lineEnd), 16);
      const total = lineEnd + 2 + size + 2;
      if (Number.isNaN(size) || buffer.length < total) return;
      const chunk = buffer.slice(0, total);
      buffer = buffer.slice(total);
      if (paceMs <= 0) {
        relay(chunk);
        continue;
      }
      sendAt = Math.max(sendAt, Date.now()) + paceMs;
      setTimeout(() => relay(chunk), sendAt - Date.now());
    }
  };
}
