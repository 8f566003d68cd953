import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { ErrorCode, GatewayError } from "../errors.ts";
import { sendError } from "../http/http-app.ts";

/** Roles nest: an admin may do what a curator may, a curator what a viewer may. */
export type AdminRole = "viewer" | "curator" | "admin";
const RANK: Record<AdminRole, number> = { viewer: 1, curator: 2, admin: 3 };

interface TokenEntry {
  role: AdminRole;
  digest: Buffer;
}

const digest = (token: string) => createHash("sha256").update(token).digest();

/**
 * Parses ADMIN_TOKENS entries ("viewer:tok1", "curator:tok2", "admin:tok3").
 * @throws GatewayError config_invalid naming the bad entry's position (never its token).
 */
export function parseAdminTokens(entries: string[]): TokenEntry[] {
  return entries.map((entry, i) => {
    const colon = entry.indexOf(":");
    const role = entry.slice(0, colon) as AdminRole;
    const token = entry.slice(colon + 1);
    if (colon < 0 || !(role in RANK) || token.length < 16) {
      throw new GatewayError(
        ErrorCode.ConfigInvalid,
        `ADMIN_TOKENS entry ${i + 1}: use role:token with role viewer, curator or admin and a token of 16+ characters.`,
      );
    }
    return { role, digest: digest(token) };
  });
}

/**
 * Finds the role of a bearer token. Every configured token is compared, each in constant time over
 * SHA-256 digests (equal lengths), so neither timing nor an early exit says which one nearly matched.
 */
export function roleOf(tokens: TokenEntry[], authorization: string | undefined): AdminRole | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!match?.[1]) return undefined;
  const given = digest(match[1]);
  let found: AdminRole | undefined;
  for (const entry of tokens) if (timingSafeEqual(entry.digest, given)) found = entry.role;
  return found;
}

/**
 * Express middleware: 401 without a known token, 403 when its role is below `needed`; each refusal is
 * reported to `refused` (the audit log) with the status and the role, if any.
 */
export function requireRole(
  tokens: TokenEntry[],
  needed: AdminRole,
  refused?: (status: 401 | 403, role: AdminRole | undefined) => void,
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const role = roleOf(tokens, req.headers.authorization);
    if (!role) {
      refused?.(401, undefined);
      res.setHeader("WWW-Authenticate", 'Bearer realm="admin"');
      sendError(
        res,
        new GatewayError(ErrorCode.Unauthorized, "Send an admin token: Authorization: Bearer <token>."),
      );
      return;
    }
    if (RANK[role] < RANK[needed]) {
      refused?.(403, role);
      sendError(
        res,
        new GatewayError(ErrorCode.Forbidden, `This needs the ${needed} role; your token is ${role}.`),
      );
      return;
    }
    res.locals.adminRole = role;
    next();
  };
}
