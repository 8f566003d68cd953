/**
 * Coded errors, after Bolt's src/errors.ts: a string code that callers and HTTP handlers switch on,
 * a message that says what happened and what to do, and an HTTP status for the API surface.
 */
export enum ErrorCode {
  ConfigInvalid = "config_invalid",
  BadRequest = "bad_request",
  MalformedJson = "malformed_json",
  PayloadTooLarge = "payload_too_large",
  EmptyText = "empty_text",
  TextTooLong = "text_too_long",
  Unauthorized = "unauthorized",
  TokenMissing = "token_missing",
  TokenInvalid = "token_invalid",
  TokenExpired = "token_expired",
  TokenWrongConversation = "token_wrong_conversation",
  Forbidden = "forbidden",
  OriginRefused = "origin_refused",
  NotFound = "not_found",
  ConversationNotFound = "conversation_not_found",
  RateLimited = "rate_limited",
  Busy = "busy",
  Timeout = "timeout",
  Cancelled = "cancelled",
  HandedOff = "handed_off",
  ModelUnavailable = "model_unavailable",
  ModelLoadFailed = "model_load_failed",
  InferenceFailed = "inference_failed",
  /** The prompt alone fills the context of one sequence: nothing is generated. */
  ContextOverflow = "context_overflow",
  /** An installed library lacks what the code relies on (a version other than the pinned one). */
  LibraryIncompatible = "library_incompatible",
  RedisUnavailable = "redis_unavailable",
  KnowledgeInvalid = "knowledge_invalid",
  DeliveryFailed = "delivery_failed",
  /** No worker took the message within QUEUE_WAIT_MS. */
  Unavailable = "unavailable",
  Internal = "internal",
}

const statusByCode: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.ContextOverflow]: 400,
  [ErrorCode.MalformedJson]: 400,
  [ErrorCode.EmptyText]: 400,
  [ErrorCode.TextTooLong]: 413,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.TokenMissing]: 401,
  [ErrorCode.TokenInvalid]: 401,
  [ErrorCode.TokenExpired]: 401,
  [ErrorCode.TokenWrongConversation]: 403,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.OriginRefused]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.ConversationNotFound]: 404,
  [ErrorCode.HandedOff]: 409,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Busy]: 429,
  [ErrorCode.Timeout]: 504,
  [ErrorCode.RedisUnavailable]: 503,
  [ErrorCode.ModelUnavailable]: 503,
  [ErrorCode.Unavailable]: 503,
};

export interface CodedError extends Error {
  readonly code: ErrorCode;
  /** HTTP status to use when this error reaches an API client. */
  readonly status: number;
  /** Seconds after which the client may try again (429/503), when known. */
  readonly retryAfterSeconds?: number;
}

export class GatewayError extends Error implements CodedError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.status = statusByCode[code] ?? 500;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class ConfigError extends GatewayError {
  constructor(message: string) {
    super(ErrorCode.ConfigInvalid, message);
    this.name = "ConfigError";
  }
}

export function isCodedError(error: unknown): error is CodedError {
  return (
    error instanceof Error &&
    typeof (error as Partial<CodedError>).code === "string" &&
    Object.values(ErrorCode).includes((error as CodedError).code)
  );
}

/** Wraps anything thrown into a CodedError so that callers handle one shape. */
export function asCodedError(error: unknown): CodedError {
  if (isCodedError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError(ErrorCode.Internal, message, { cause: error });
}

/** The JSON body every HTTP API returns on error: `{"error": {"code", "message"}}`. */
export function errorBody(error: CodedError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}
