import { DeliveryRefusedError, DeliveryRetryError } from "../../src/delivery/delivery-queue.ts";

/**
 * Platform errors that the same call will get again however long we wait: the job goes to the dead
 * letters at once, where an operator sees it (invite the bot, fix the token or the channel id).
 */
const PERMANENT = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
  "missing_scope",
  "restricted_action",
  "msg_too_long",
  "invalid_blocks",
  "invalid_blocks_format",
  "user_not_in_channel",
  "ekm_access_denied",
]);

/** The Slack platform error code (`{ok:false, error}`), if that is what this is. */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === "string" ? data.error : undefined;
}

/** The Web API client's error inside whatever wrapped it (our coded errors keep it as `cause`). */
function unwrap(error: unknown): unknown {
  let e = error;
  for (let i = 0; i < 5 && e instanceof Error && e.cause !== undefined; i++) {
    if ((e as { code?: unknown }).code?.toString().startsWith("slack_")) break;
    e = e.cause;
  }
  return e;
}

/**
 * What a failed Web API call means for its delivery: refused for good (dead letter now), or worth
 * another attempt, no sooner than Slack's Retry-After when the client gave up on a 429.
 */
export function slackDeliveryError(error: unknown): Error {
  const inner = unwrap(error);
  const code = slackErrorCode(inner);
  const message = code ?? (inner instanceof Error ? inner.message : String(inner));
  if (code !== undefined && PERMANENT.has(code)) {
    return new DeliveryRefusedError(`Slack refused the message for good (${code}).`);
  }
  const retryAfter = (inner as { retryAfter?: unknown } | undefined)?.retryAfter;
  return new DeliveryRetryError(`Slack did not take the message (${message}).`, {
    retryAfterMs: typeof retryAfter === "number" ? retryAfter * 1000 : undefined,
    cause: error,
  });
}
