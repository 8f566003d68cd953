import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.ts";

/** What each worker process says about itself every few seconds. */
export interface WorkerStatus {
  id: string;
  state: "loading" | "ready" | "failed";
  /** "llama: ...", or "retrieval-only (no MODEL_PATH)". */
  engine: string;
  capacity: number;
  error?: string;
  at: number;
}

/** A worker not heard from for this long is gone (it beats every 5 s). */
export const HEARTBEAT_TTL_SECONDS = 15;

/**
 * Heartbeats live in one hash (worker id -> status) beside a sorted set of when each was last seen, both
 * under one hash tag: reading them is two commands on one slot, where a SCAN over per-worker keys would
 * see only one node of a Redis Cluster.
 */
export async function publishWorkerStatus(redis: Redis, keys: Keyspace, status: WorkerStatus): Promise<void> {
  const { statuses, seen } = keys.workers();
  await redis
    .multi()
    .hset(statuses, status.id, JSON.stringify(status))
    .zadd(seen, status.at, status.id)
    .exec();
}

/** Forgets a worker that stops (it would otherwise be listed until its heartbeat ages out). */
export async function removeWorkerStatus(redis: Redis, keys: Keyspace, id: string): Promise<void> {
  const { statuses, seen } = keys.workers();
  await redis.multi().hdel(statuses, id).zrem(seen, id).exec();
}

/** Statuses of the workers heard from within HEARTBEAT_TTL_SECONDS; older ones are dropped on the way. */
export async function readWorkerStatuses(
  redis: Redis,
  keys: Keyspace,
  now = Date.now(),
): Promise<WorkerStatus[]> {
  const { statuses, seen } = keys.workers();
  const cutoff = now - HEARTBEAT_TTL_SECONDS * 1000;
  const stale = await redis.zrangebyscore(seen, "-inf", `(${cutoff}`);
  if (stale.length > 0)
    await redis
      .multi()
      .zrem(seen, ...stale)
      .hdel(statuses, ...stale)
      .exec();
  const ids = await redis.zrangebyscore(seen, cutoff, "+inf");
  if (ids.length === 0) return [];
  const values = await redis.hmget(statuses, ...ids);
  return values.flatMap((v) => (v ? [JSON.parse(v) as WorkerStatus] : []));
}
