import { ErrorCode, GatewayError } from "../../src/errors.ts";
import { hmacSha256, verifyHmac } from "../../src/security/hmac.ts";

/** What a web-chat session token carries: the one conversation it opens, its user, and its expiry. */
export interface SessionClaims {
  /** Conversation id. */
  c: string;
  /** User id (anonymous or verified by the host page). */
  u: string;
  /** Expiry, seconds since epoch. */
  e: number;
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Signed, expiring tokens bound to one conversation: `base64url(claims).base64url(HMAC-SHA256)`. */
export class SessionTokens {
  readonly #secret: Buffer;
  readonly #ttlSeconds: number;

  constructor(secret: string, ttlSeconds: number) {
    this.#secret = Buffer.from(secret, "utf8");
    this.#ttlSeconds = ttlSeconds;
  }

  issue(conversationId: string, userId: string, now = Date.now()): string {
    const claims: SessionClaims = {
      c: conversationId,
      u: userId,
      e: Math.floor(now / 1000) + this.#ttlSeconds,
    };
    const body = b64(JSON.stringify(claims));
    return `${body}.${this.#sign(body)}`;
  }

  /**
   * Checks signature, expiry and that the token belongs to `conversationId`.
   * @throws GatewayError token_missing | token_invalid | token_expired | token_wrong_conversation
   */
  verify(token: string | undefined, conversationId: string, now = Date.now()): SessionClaims {
    if (!token)
      throw new GatewayError(ErrorCode.TokenMissing, "A session token is required (Authorization: Bearer).");
    const [body, signature, extra] = token.split(".");
    if (!body || !signature || extra !== undefined || !this.#matches(body, signature)) {
      throw new GatewayError(
        ErrorCode.TokenInvalid,
        "The session token is not valid; start a new conversation.",
      );
    }
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as SessionClaims;
    } catch {
      throw new GatewayError(
        ErrorCode.TokenInvalid,
        "The session token is not valid; start a new conversation.",
      );
    }
    if (typeof claims.e !== "number" || claims.e * 1000 <= now) {
      throw new GatewayError(ErrorCode.TokenExpired, "The session has expired; start a new conversation.");
    }
    if (claims.c !== conversationId) {
      throw new GatewayError(
        ErrorCode.TokenWrongConversation,
        "This session token belongs to another conversation.",
      );
    }
    return claims;
  }

  #sign(body: string): string {
    return hmacSha256(this.#secret, body, "base64url");
  }

  #matches(body: string, signature: string): boolean {
    return verifyHmac(this.#secret, body, signature, "base64url");
  }
}

/** Reads `Authorization: Bearer <token>`, or `?token=` (EventSource cannot set headers). */
export function tokenFrom(authorization: string | undefined, query: unknown): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (match?.[1]) return match[1];
  return typeof query === "string" && query.length > 0 ? query : undefined;
}
