import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.ts";
import { acceptedAtOf } from "./queue-wait.ts";
import { readWorkerStatuses, type WorkerStatus } from "./worker-status.ts";

/** What /metrics and /readyz say about the answer queue and the workers behind it. */
export interface QueueStats {
  /** Jobs no worker has taken yet (waiting + prioritized). */
  waiting: number;
  /** Age of the oldest of them, in ms (0 when none waits). */
  oldestWaitingMs: number;
  workers: WorkerStatus[];
}

export async function readQueueStats(
  queue: Queue,
  redis: Redis,
  keys: Keyspace,
  now = Date.now(),
): Promise<QueueStats> {
  const [counts, oldestWait, oldestPrioritized, workers] = await Promise.all([
    queue.getJobCounts("wait", "prioritized"),
    queue.getJobs(["wait"], 0, 0, true),
    queue.getJobs(["prioritized"], 0, 0, true),
    readWorkerStatuses(redis, keys, now),
  ]);
  const oldest = [...oldestWait, ...oldestPrioritized]
    .filter((job) => job !== undefined)
    .reduce((min, job) => Math.min(min, acceptedAtOf(job)), now);
  return {
    waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    oldestWaitingMs: Math.max(0, now - oldest),
    workers,
  };
}
