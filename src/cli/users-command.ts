import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { channelForgetter, createAdapters, deliveryQueueNames } from "../app/channel-adapters.ts";
import type { Config } from "../config.ts";
import { contextStoreFor } from "../conversation/context-store.ts";
import { ChannelSchema } from "../conversation/inbound-message.ts";
import { openInsights } from "../insights/insights-access.ts";
import { UserDataEraser } from "../privacy/user-data-eraser.ts";
import { Keyspace } from "../redis/keyspace.ts";

const usage = `Usage: npm run users -- delete --channel webchat|slack|teams --user USER_ID [--json]

Deletes everything stored about one user (a privacy request): the conversations they took part in
(turns, feedback, message records, replies, handoffs) and their analytics events and gaps.
`;

/** `npm run users -- delete ...`. Exit 0 done, 2 usage error. */
export async function runUsers(
  argv: string[],
  config: Config,
  io: { stdout: { write(t: string): unknown }; stderr: { write(t: string): unknown } },
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        channel: { type: "string" },
        user: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  try {
    parsed = parse();
  } catch (error) {
    io.stderr.write(`users: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const channel = ChannelSchema.safeParse(values.channel);
  if (positionals[0] !== "delete" || !channel.success || !values.user) {
    io.stderr.write(usage);
    return 2;
  }
  const { redis, store, close } = await openInsights(config);
  // Pending and failed deliveries (webhook hand-offs, channel posts) may carry the user's words.
  const keys = new Keyspace(config.redis.prefix);
  const adapters = createAdapters(config);
  const deliveries = deliveryQueueNames(adapters).map(
    (name) => new Queue(name, { connection: redis, prefix: keys.bullPrefix() }),
  );
  try {
    const eraser = new UserDataEraser({
      redis,
      keys,
      insights: store,
      context: contextStoreFor(redis, keys, config.conversation),
      deliveries,
      forget: channelForgetter(adapters, redis, keys),
    });
    const result = await eraser.erase(channel.data, values.user);
    io.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `Deleted for ${channel.data} user ${values.user}: ${result.conversations} conversations, ${result.events} analytics events, ${result.gaps} gaps, ${result.deliveries} queued deliveries, ${result.keys} keys.\n`,
    );
    return 0;
  } finally {
    await Promise.all(deliveries.map((q) => q.close()));
    close();
  }
}
