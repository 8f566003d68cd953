import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The one HMAC-SHA256 sign/verify pair of the service (web-chat session tokens and identities, the
 * hand-off webhook signature, the Slack request signature the test fakes send). `node:crypto` has the
 * primitive; what each caller got wrong on its own was the comparison, so it lives here once: digests are
 * compared as bytes, in constant time, and a length mismatch is a plain `false`, never an exception.
 */
export type DigestEncoding = "hex" | "base64url";

/** HMAC-SHA256 of the parts, fed in order (no separator is added), as `encoding`. */
export function hmacSha256(
  secret: string | Buffer,
  parts: string | Buffer | readonly (string | Buffer)[],
  encoding: DigestEncoding,
): string {
  const hmac = createHmac("sha256", secret);
  for (const part of Array.isArray(parts) ? parts : [parts]) hmac.update(part);
  return hmac.digest(encoding);
}

/** Constant-time equality of two byte strings; false (not a throw) when the lengths differ. */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when `given` is the HMAC of the parts. Hex digests are compared as bytes, so either letter case
 * passes (as receivers of hex signatures expect); anything that does not decode to a digest is false.
 */
export function verifyHmac(
  secret: string | Buffer,
  parts: string | Buffer | readonly (string | Buffer)[],
  given: string,
  encoding: DigestEncoding,
): boolean {
  const pattern = encoding === "hex" ? /^[0-9a-f]{64}$/i : /^[A-Za-z0-9_-]{43}$/;
  if (!pattern.test(given)) return false;
  const expected = Buffer.from(hmacSha256(secret, parts, encoding), encoding);
  return safeEqual(expected, Buffer.from(given, encoding));
}
