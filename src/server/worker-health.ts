import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { WorkerStatus } from "../answering/worker-status.ts";

export interface WorkerHealthOptions {
  port: number;
  host: string;
  /** The worker's status now; undefined while its runtime is still starting (the model loading). */
  status: () => WorkerStatus | undefined;
  /** True once shutdown began: readiness drops so that no new work is routed here. */
  stopping: () => boolean;
}

export interface WorkerHealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A worker's own probes (WORKER_HEALTH_PORT), for orchestrators: `/healthz` answers while the process
 * runs (liveness, cheap: a model that loads for minutes must not get the process killed), `/readyz` is
 * 200 only once the model is loaded and the worker takes jobs (503 while loading, when the model failed,
 * and during shutdown). Plain node:http: a worker has no Express app and needs two routes.
 */
export async function startWorkerHealthServer(o: WorkerHealthOptions): Promise<WorkerHealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { status: "method not allowed" });
    if (path === "/healthz") return send(200, { status: "ok" });
    if (path === "/readyz") {
      const status = o.status();
      const state = o.stopping() ? "stopping" : (status?.state ?? "loading");
      return send(state === "ready" ? 200 : 503, {
        status: state === "ready" ? "ready" : "not ready",
        state,
        ...(status ? { id: status.id, engine: status.engine, capacity: status.capacity } : {}),
        ...(status?.error ? { error: status.error } : {}),
      });
    }
    return send(404, { status: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
