import { createHmac, timingSafeEqual } from "node:crypto";
import { ErrorCode, GatewayError } from "../../src/errors.ts";

/** Slack refuses requests older than five minutes; so do we, in both directions (clock skew). */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

export interface SignedRequest {
  signingSecret: string;
  /** `x-slack-request-timestamp` (seconds since epoch, as sent). */
  timestamp: string | undefined;
  /** `x-slack-signature` ("v0=" + hex HMAC). */
  signature: string | undefined;
  /** The body exactly as received: the HMAC covers the bytes, not a re-serialisation. */
  rawBody: Buffer;
  /** Seconds since epoch. @defaultValue the current time */
  nowSeconds?: number;
}

/** `v0=` + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)), Slack's signing scheme. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac("sha256", signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest("hex")}`;
}

/**
 * Checks a request's Slack signature on its raw body.
 * @throws GatewayError unauthorized when a header is missing, the timestamp is outside the window,
 *   or the signature does not match.
 */
export function verifySlackSignature(request: SignedRequest): void {
  const { signingSecret, timestamp, signature, rawBody } = request;
  if (!timestamp || !signature) {
    throw new GatewayError(
      ErrorCode.Unauthorized,
      "Missing x-slack-signature or x-slack-request-timestamp header.",
    );
  }
  const ts = Number(timestamp);
  const now = request.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(ts)) {
    throw new GatewayError(ErrorCode.Unauthorized, "x-slack-request-timestamp is not a number of seconds.");
  }
  if (Math.abs(now - ts) > SIGNATURE_WINDOW_SECONDS) {
    // A captured request replayed later must not pass, even with a valid signature.
    throw new GatewayError(
      ErrorCode.Unauthorized,
      "The Slack request timestamp is more than five minutes off.",
    );
  }
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody), "utf8");
  const given = Buffer.from(signature, "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new GatewayError(
      ErrorCode.Unauthorized,
      "The Slack signature does not match: check SLACK_SIGNING_SECRET.",
    );
  }
}
