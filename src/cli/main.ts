import { type Config, loadConfig } from "../config.ts";
import { ErrorCode, GatewayError, isCodedError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { redisProblem } from "../redis/redis-client.ts";

const usage = `Usage:
  npm start [-- ROLE]        run the service (containers: node dist/cli.js start [ROLE])
      (no role)              the gateway and one worker in one process
      gateway                HTTP: channels, web chat API, /healthz, /readyz, /metrics
      worker                 inference: holds the model, answers queued messages (one per GPU)
  npm run kb -- COMMAND      the knowledge folder: lint, search, stats, eval, gaps (npm run kb -- --help)
  npm run report -- [--since 7d] [--format md|csv|json]
                             questions, deflection, thumbs up, hand-offs, time to first token
  npm run users -- delete --channel CHANNEL --user USER_ID [--json]
                             delete everything kept about one user
  npm run deliveries -- list|retry [--queue NAME] [--json]
                             outbound deliveries: counts, dead letters, send them again
  npm run model:tiny -- OUT.gguf
                             write the random-weight model the tests use

Settings are environment variables (or CONFIG_FILE): see the configuration table in README.md.
`;

const isHelp = (arg: string | undefined) => arg === "--help" || arg === "-h" || arg === "help";

/** Before a command that works on Redis: one line if REDIS_URL cannot be reached, instead of retries. */
async function requireRedis(config: Config, args: string[]): Promise<void> {
  if (args.some(isHelp)) return; // the command's own usage needs no Redis
  const problem = await redisProblem(config.redis.url);
  if (problem) throw new GatewayError(ErrorCode.RedisUnavailable, `REDIS_URL: ${problem}`);
}

/** The one entry point: `start`, `kb`, `report`, `users`, `deliveries`, `model:tiny`; config parsed once. */
async function main(argv: string[]): Promise<number> {
  const [command = "start", ...rest] = argv;
  if (isHelp(command) || (command === "start" && isHelp(rest[0]))) {
    process.stdout.write(usage);
    return 0;
  }
  switch (command) {
    case "start": {
      const role = rest[0] ?? "all";
      if (role !== "all" && role !== "gateway" && role !== "worker") {
        process.stderr.write(
          `Unknown role "${role}": use gateway, worker, or nothing for both (--help lists them).\n`,
        );
        return 2;
      }
      const config = loadConfig();
      const logger = createLogger({ level: config.log.level, content: config.log.content });
      const { runStart } = await import("./start-command.ts");
      await runStart(role, config, logger);
      return -1;
    }
    case "kb": {
      const { runKb } = await import("./kb-command.ts");
      return runKb(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case "report": {
      const config = loadConfig();
      await requireRedis(config, rest);
      const { runReport } = await import("./report-command.ts");
      return runReport(rest, config, { stdout: process.stdout, stderr: process.stderr });
    }
    case "users": {
      const config = loadConfig();
      await requireRedis(config, rest);
      const { runUsers } = await import("./users-command.ts");
      return runUsers(rest, config, { stdout: process.stdout, stderr: process.stderr });
    }
    case "deliveries": {
      const config = loadConfig();
      await requireRedis(config, rest);
      const { runDeliveries } = await import("./deliveries-command.ts");
      return runDeliveries(rest, config, { stdout: process.stdout, stderr: process.stderr });
    }
    case "model:tiny": {
      const out = rest[0];
      if (!out) {
        process.stderr.write("usage: npm run model:tiny -- <out.gguf>\n");
        return 2;
      }
      const { writeTinyModel } = await import("../tiny-model/tiny-model.ts");
      await writeTinyModel(out);
      process.stdout.write(`wrote ${out}\n`);
      return 0;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    // One clear line for expected failures (bad config, no Redis, unloadable model); a stack otherwise.
    process.stderr.write(
      isCodedError(error) ? `${error.message}\n` : `${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  },
);
