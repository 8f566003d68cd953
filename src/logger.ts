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

export function createLogger({ level = "info", content = false, destination }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: content ? secretPaths : [...secretPaths, ...contentPaths], censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
