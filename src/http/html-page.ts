import { randomBytes } from "node:crypto";
import type { Request, Response } from "express";

/** Escapes text for HTML text and double-quoted attribute values (a Host header can carry anything). */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/** The gateway's base URL as visitors reach it: PUBLIC_URL when set, else the request's own origin. */
export function baseUrlOf(req: Request, publicUrl: string | undefined): string {
  return (publicUrl ?? `${req.protocol}://${req.get("host") ?? "localhost"}`).replace(/\/+$/, "");
}

/**
 * The Content-Security-Policy of the gateway's own pages (the landing page, the web chat demo): scripts
 * from this origin only, no inline script, one nonced style element, no remote images.
 */
export function htmlPageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Sends one of the gateway's own HTML pages, built for a fresh style nonce, under htmlPageCsp. */
export function sendHtmlPage(res: Response, page: (nonce: string) => string): void {
  const nonce = randomBytes(16).toString("base64");
  res.setHeader("Content-Security-Policy", htmlPageCsp(nonce));
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.send(page(nonce));
}
