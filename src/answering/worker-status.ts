import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/redis-client.ts";

/** What each worker process says about itself every few seconds (a key with a short TTL). */
export interface WorkerStatus {
  id: string;
  state: "loading" | "ready" | "failed";
  /** "llama: ...", or "retrieval-only (no MODEL_PATH)". */
  engine: string;
  capacity: number;
  error?: string;
  at: number;
}

export const HEARTBEAT_TTL_SECONDS = 15;

export async function publishWorkerStatus(redis: Redis, keys: Keyspace, status: WorkerStatus): Promise<void> {
  await redis.set(keys("worker", status.id), JSON.stringify(status), "EX", HEARTBEAT_TTL_SECONDS);
}

export async function readWorkerStatuses(redis: Redis, keys: Keyspace): Promise<WorkerStatus[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", keys("worker", "*"), "COUNT", 200);
    cursor = next;
    found.push(...batch);
  } while (cursor !== "0");
  if (found.length === 0) return [];
  const values = await redis.mget(...found);
  return values.flatMap((v) => (v ? [JSON.parse(v) as WorkerStatus] : []));
}
