import type { Queue } from "bullmq";

/** How many jobs a delivery queue holds, by state. */
export interface DeliveryCounts {
  /** Waiting for a worker or for their next attempt. */
  pending: number;
  /** Being sent now. */
  active: number;
  /** Given up and kept for an operator (BullMQ's failed set). */
  deadLetters: number;
}

/** One dead letter, as an operator reads it (never its payload: it may carry a user's words). */
export interface DeadLetter {
  id: string;
  name: string;
  attempts: number;
  reason: string;
  failedAt: number | undefined;
}

/** Reads a delivery queue's counts. */
export async function countDeliveries(queue: Queue): Promise<DeliveryCounts> {
  const c = await queue.getJobCounts("waiting", "delayed", "prioritized", "active", "failed");
  return {
    pending: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0),
    active: c.active ?? 0,
    deadLetters: c.failed ?? 0,
  };
}

/** The newest dead letters of a queue. */
export async function listDeadLetters(queue: Queue, limit = 50): Promise<DeadLetter[]> {
  const jobs = await queue.getFailed(0, Math.max(0, limit - 1));
  return jobs.map((job) => ({
    id: String(job.id),
    name: job.name,
    attempts: job.attemptsMade,
    reason: job.failedReason,
    failedAt: job.finishedOn,
  }));
}

/**
 * Sends the queue's dead letters again (after the platform or the configuration was fixed): those there
 * now, once each; one that fails again is a dead letter again, not retried in a loop.
 */
export async function retryDeadLetters(queue: Queue): Promise<number> {
  const jobs = await queue.getFailed(0, -1);
  for (const job of jobs) await job.retry("failed");
  return jobs.length;
}
