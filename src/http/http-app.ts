import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Response } from "express";
import { type CodedError, ErrorCode, errorBody, GatewayError, isCodedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { isRedisDown } from "../redis/redis-client.ts";

/** Sends a coded error as `{"error": {"code", "message"}}` with its status (and Retry-After when known). */
export function sendError(res: Response, error: CodedError): void {
  const shown = publicError(error);
  if (shown.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(shown.retryAfterSeconds));
  res.status(shown.status).json(errorBody(shown));
}

/**
 * What a client may see of an error. An unexpected error (an internal one wrapping a cause) never
 * shows its own message, which can carry internals; one caused by Redis being unreachable becomes a
 * 503 that says to try again, since the service heals by itself when Redis returns.
 */
function publicError(error: CodedError): CodedError {
  if (error.code !== ErrorCode.Internal || error.cause === undefined) return error;
  if (isRedisDown(error.cause)) {
    return new GatewayError(
      ErrorCode.RedisUnavailable,
      "The service cannot reach its database right now. Please try again shortly.",
      { retryAfterSeconds: 5 },
    );
  }
  return new GatewayError(ErrorCode.Internal, "Internal error. Please try again.");
}

/** The gateway's express app; routes are mounted by the health module and the channel adapters. */
export function createHttpApp(): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use((_req, res, next) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    next();
  });
  return app;
}

/** Installed last: turns body-parser failures and thrown errors into the JSON error shape. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) return;
    const type = (error as { type?: string }).type;
    if (type === "entity.parse.failed") {
      sendError(res, new GatewayError(ErrorCode.MalformedJson, "The request body is not valid JSON."));
    } else if (type === "entity.too.large") {
      sendError(res, new GatewayError(ErrorCode.PayloadTooLarge, "The request body is too large."));
    } else if (type === "encoding.unsupported" || type === "charset.unsupported") {
      sendError(
        res,
        new GatewayError(ErrorCode.BadRequest, "Unsupported request encoding; send UTF-8 JSON."),
      );
    } else if (isCodedError(error)) {
      sendError(res, error);
    } else {
      logger.error(
        { err: error instanceof Error ? error.message : String(error) },
        "unhandled request error",
      );
      sendError(
        res,
        new GatewayError(ErrorCode.Internal, "Internal error. Please try again.", { cause: error }),
      );
    }
  };
}

/** Installed after every route: an unknown path gets the JSON error shape too, not express's HTML page. */
export function notFoundHandler(): RequestHandler {
  return (_req, res) => {
    sendError(
      res,
      new GatewayError(ErrorCode.NotFound, "There is no such endpoint. See the API documentation."),
    );
  };
}
