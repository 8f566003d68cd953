import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import type { Logger } from "../../src/logger.ts";

/**
 * Bolt and its Web API client log through this. Their debug lines carry request bodies (message text),
 * so debug is dropped unless content logging is on; everything else goes to pino.
 */
export function boltLogger(logger: Logger, { content }: { content: boolean }): BoltLogger {
  const log = logger.child({ component: "bolt" });
  let level = LogLevel.INFO;
  const line = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(" ");
  return {
    debug: (...msg: unknown[]) => {
      if (content) log.debug(line(msg));
    },
    info: (...msg: unknown[]) => log.info(line(msg)),
    warn: (...msg: unknown[]) => log.warn(line(msg)),
    error: (...msg: unknown[]) => log.error(line(msg)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
