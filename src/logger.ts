import pino, { type Logger } from "pino";
import type { Config } from "./config.ts";

export type { Logger } from "pino";

/**
 * Paths pino blanks out. Secrets always; message text unless LOG_CONTENT=true, so that production
 * logs can be shipped without carrying what customers typed.
 */
const secretPaths = [
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  'headers["x-slack-signature"]',
  "*.signingSecret",
  "*.botToken",
  "*.appToken",
  "*.appPassword",
  "*.tokenSecret",
  "*.identitySecret",
  "*.webhookSecret",
];
const contentPaths = ["text", "*.text", "question", "*.question", "answer", "*.answer", "prompt", "*.prompt"];

export interface LoggerOptions {
  level?: Config["log"]["level"];
  /** Log message text (debugging only). @defaultValue false */
  content?: boolean;
  /** Where lines go; pino's default is stdout. */
  destination?: pino.DestinationStream;
}

/**
 * pino appends a child's bindings to its parent's, so `logger.child({ component: "worker" })` handed to
 * a part that adds its own `child({ component: "inference-worker" })` would write `"component"` twice in
 * one JSON line (valid for pino, ambiguous for every log shipper). Each new child rewrites its bindings
 * with each key once, the innermost value winning; JSON.parse keeps the last of duplicate keys.
 */
function bindEachKeyOnce(child: Logger): void {
  const holder = child as unknown as Record<symbol, string>;
  const chindings = holder[pino.symbols.chindingsSym];
  if (typeof chindings !== "string" || chindings.length < 2) return;
  const once = JSON.stringify(JSON.parse(`{${chindings.slice(1)}}`)).slice(1, -1);
  if (once.length !== chindings.length - 1) holder[pino.symbols.chindingsSym] = `,${once}`;
}

export function createLogger({ level = "info", content = false, destination }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: content ? secretPaths : [...secretPaths, ...contentPaths], censor: "[redacted]" },
    onChild: bindEachKeyOnce,
  };
  return destination ? pino(options, destination) : pino(options);
}
