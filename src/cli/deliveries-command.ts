import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { createAdapters, deliveryQueueNames } from "../app/channel-adapters.ts";
import type { Config } from "../config.ts";
import { countDeliveries, listDeadLetters, retryDeadLetters } from "../delivery/dead-letters.ts";
import { createLogger } from "../logger.ts";
import { Keyspace } from "../redis/keyspace.ts";
import { createRedis } from "../redis/redis-client.ts";

const usage = `Usage: npm run deliveries -- list|retry [--queue NAME] [--limit N] [--json]

Outbound deliveries (Slack, Teams, the hand-off webhook): "list" prints each queue's pending, active and
dead-letter counts and its newest dead letters with their reasons (never their contents); "retry" sends
the dead letters again once the cause is fixed (an invited bot, a new token, a reachable receiver).
`;

type Io = { stdout: { write(t: string): unknown }; stderr: { write(t: string): unknown } };

/** `npm run deliveries -- ...`. Exit 0 done, 2 usage error. */
export async function runDeliveries(argv: string[], config: Config, io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        queue: { type: "string" },
        limit: { type: "string", default: "20" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  try {
    parsed = parse();
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const action = positionals[0];
  const limit = Number(values.limit);
  const names = deliveryQueueNames(createAdapters(config));
  if ((action !== "list" && action !== "retry") || !Number.isInteger(limit) || limit < 1) {
    io.stderr.write(usage);
    return 2;
  }
  if (values.queue !== undefined && !names.includes(values.queue)) {
    io.stderr.write(`Unknown queue "${values.queue}": one of ${names.join(", ")}.\n`);
    return 2;
  }
  const keys = new Keyspace(config.redis.prefix);
  const redis = createRedis(config.redis.url, createLogger({ level: "silent" }), { name: "deliveries-cli" });
  const queues = (values.queue ? [values.queue] : names).map(
    (name) => new Queue(name, { connection: redis, prefix: keys.bullPrefix() }),
  );
  try {
    const rows = [];
    for (const queue of queues) {
      const retried = action === "retry" ? await retryDeadLetters(queue) : undefined;
      const counts = await countDeliveries(queue);
      const dead = action === "list" ? await listDeadLetters(queue, limit) : [];
      rows.push({ queue: queue.name, ...counts, ...(retried === undefined ? {} : { retried }), dead });
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    for (const row of rows) {
      const done = row.retried === undefined ? "" : `, ${row.retried} sent again`;
      io.stdout.write(
        `${row.queue}: ${row.pending} pending, ${row.active} sending, ${row.deadLetters} dead letters${done}\n`,
      );
      for (const d of row.dead) {
        const when = d.failedAt ? new Date(d.failedAt).toISOString() : "?";
        io.stdout.write(`  ${d.id}  ${when}  ${d.attempts} attempt(s)  ${d.reason}\n`);
      }
    }
    return 0;
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
  }
}
