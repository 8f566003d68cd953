import { loadConfig } from "../config.ts";
import { isCodedError } from "../errors.ts";
import { createLogger } from "../logger.ts";

/** The one entry point: `start`, `kb`, `report`, `users`, `deliveries`, `model:tiny`. Config is parsed here, once. */
async function main(argv: string[]): Promise<number> {
  const [command = "start", ...rest] = argv;
  switch (command) {
    case "start": {
      const role = rest[0] ?? "all";
      if (role !== "all" && role !== "gateway" && role !== "worker") {
        process.stderr.write(`Unknown role "${role}": use gateway, worker, or nothing for both.\n`);
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
      const { runReport } = await import("./report-command.ts");
      return runReport(rest, loadConfig(), { stdout: process.stdout, stderr: process.stderr });
    }
    case "users": {
      const { runUsers } = await import("./users-command.ts");
      return runUsers(rest, loadConfig(), { stdout: process.stdout, stderr: process.stderr });
    }
    case "deliveries": {
      const { runDeliveries } = await import("./deliveries-command.ts");
      return runDeliveries(rest, loadConfig(), { stdout: process.stdout, stderr: process.stderr });
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
      process.stderr.write(
        `Unknown command "${command}". Commands: start [gateway|worker], kb, report, users, deliveries, model:tiny.\n`,
      );
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
