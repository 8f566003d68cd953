import { createHash, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Slack's Socket Mode end on 127.0.0.1: a minimal RFC 6455 WebSocket server (text frames, ping/pong,
 * close) that says `hello`, sends envelopes the way Slack does, and records the client's acks. Enough
 * for the real @slack/socket-mode client; no extension or fragmentation support (the client uses none).
 */
export class FakeSocketModeServer extends EventEmitter {
  readonly acks: string[] = [];
  #server: Server;
  #sockets = new Set<Duplex>();
  #port = 0;

  private constructor() {
    super();
    this.#server = createServer((_req, res) => {
      res.writeHead(426).end();
    });
    this.#server.on("upgrade", (req, socket) => {
      const key = req.headers["sec-websocket-key"];
      if (typeof key !== "string") {
        socket.destroy();
        return;
      }
      const accept = createHash("sha1")
        .update(key + WS_GUID)
        .digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => this.#sockets.delete(socket));
      this.#read(socket);
      this.#send(
        socket,
        0x1,
        JSON.stringify({
          type: "hello",
          num_connections: 1,
          debug_info: { host: "applink-fake", approximate_connection_time: 18060 },
          connection_info: { app_id: "A0MDYCDME" },
        }),
      );
      this.emit("connection");
    });
  }

  static async start(): Promise<FakeSocketModeServer> {
    const fake = new FakeSocketModeServer();
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}/link/?ticket=${randomUUID()}&app_id=A0MDYCDME`;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** Sends an Events API envelope to every connected client; returns its envelope_id. */
  sendEvent(payload: unknown, retryAttempt = 0): string {
    const envelopeId = randomUUID();
    const message = JSON.stringify({
      envelope_id: envelopeId,
      payload,
      type: "events_api",
      accepts_response_payload: false,
      retry_attempt: retryAttempt,
      retry_reason: retryAttempt > 0 ? "timeout" : "",
    });
    for (const socket of this.#sockets) this.#send(socket, 0x1, message);
    return envelopeId;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #send(socket: Duplex, opcode: number, data: string | Buffer): void {
    const payload = typeof data === "string" ? Buffer.from(data) : data;
    let header: Buffer;
    if (payload.length < 126) header = Buffer.from([0x80 | opcode, payload.length]);
    else if (payload.length < 65_536) {
      header = Buffer.alloc(4);
      header.writeUInt8(0x80 | opcode, 0);
      header.writeUInt8(126, 1);
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header.writeUInt8(0x80 | opcode, 0);
      header.writeUInt8(127, 1);
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    socket.write(Buffer.concat([header, payload]));
  }

  #read(socket: Duplex): void {
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = (buffer[0] as number) & 0x0f;
        const masked = ((buffer[1] as number) & 0x80) !== 0;
        let length = (buffer[1] as number) & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        const maskLength = masked ? 4 : 0;
        if (buffer.length < offset + maskLength + length) return;
        const mask = buffer.subarray(offset, offset + maskLength);
        const payload = Buffer.from(buffer.subarray(offset + maskLength, offset + maskLength + length));
        if (masked)
          for (let i = 0; i < payload.length; i++)
            payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
        buffer = buffer.subarray(offset + maskLength + length);
        this.#frame(socket, opcode, payload);
      }
    });
  }

  #frame(socket: Duplex, opcode: number, payload: Buffer): void {
    if (opcode === 0x9) this.#send(socket, 0xa, payload);
    else if (opcode === 0x8) {
      this.#send(socket, 0x8, payload.subarray(0, 2));
      socket.end();
    } else if (opcode === 0x1) {
      const message = JSON.parse(payload.toString("utf8")) as { envelope_id?: string };
      if (message.envelope_id) {
        this.acks.push(message.envelope_id);
        this.emit("ack", message.envelope_id);
      }
    }
  }
}
