import { ErrorCode, GatewayError } from "../../src/errors.ts";
import { hmacSha256, verifyHmac } from "../../src/security/hmac.ts";
import type { WebchatSite } from "./origin-policy.ts";

/** What the host page passes to start a conversation as a known user. */
export interface IdentityClaim {
  userId?: unknown;
  userHash?: unknown;
}

/**
 * The signature the host page's server computes for a user id, as Intercom's identity verification
 * does: lowercase hex of HMAC-SHA256(identity secret, user id). The secret never reaches the browser,
 * so a visitor cannot claim someone else's id.
 */
export function signUserId(secret: string, userId: string): string {
  return hmacSha256(secret, userId, "hex");
}

/**
 * Checks the identity a page sent for its site.
 * @returns the verified user id, or undefined for an anonymous visitor (allowed unless the site requires
 *   identities).
 * @throws GatewayError unauthorized when an identity is required but missing or badly signed; forbidden
 *   when the page sends an identity but the site has no secret to check it with.
 */
export function verifyIdentity(site: WebchatSite, claim: IdentityClaim): string | undefined {
  const { userId, userHash } = claim;
  if (userId === undefined && userHash === undefined) {
    if (site.requireIdentity) {
      throw new GatewayError(
        ErrorCode.Unauthorized,
        "This site requires a signed identity: pass userId and userHash (HMAC-SHA256 of the user id) to the widget.",
      );
    }
    return undefined;
  }
  if (typeof userId !== "string" || !/^[^\p{Cc}]{1,200}$/u.test(userId) || userId.startsWith("anon-")) {
    throw new GatewayError(
      ErrorCode.BadRequest,
      "userId must be 1-200 printable characters and must not start with 'anon-'.",
    );
  }
  if (!site.identitySecret) {
    throw new GatewayError(
      ErrorCode.Forbidden,
      "This site cannot verify identities (no identity secret is configured); remove userId/userHash or configure WEBCHAT_IDENTITY_SECRET.",
    );
  }
  if (typeof userHash !== "string" || !verifyHmac(site.identitySecret, userId, userHash, "hex")) {
    throw new GatewayError(
      ErrorCode.Unauthorized,
      "The identity signature does not match: userHash must be the hex HMAC-SHA256 of userId with the site's identity secret.",
    );
  }
  return userId;
}
