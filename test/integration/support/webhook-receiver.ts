import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A ticket system's webhook endpoint on 127.0.0.1: records every POST with its raw body and answers
 * with the next status from `statuses` (then 200), so tests can make the first attempts fail.
 */
export async function startWebhookReceiver(statuses: number[] = []) {
  const received: ReceivedHook[] = [];
  const queue = [...statuses];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = queue.shift() ?? 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
      res.writeHead(status, { "content-type": "application/json" }).end("{}");
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/handoff`;
  return {
    url,
    received,
    /** Resolves once `predicate` holds for what has arrived (rejects after `timeoutMs`). */
    async waitFor(predicate: (r: ReceivedHook[]) => boolean, timeoutMs = 15_000): Promise<ReceivedHook[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(`webhook: condition not met; got ${received.length} posts`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
