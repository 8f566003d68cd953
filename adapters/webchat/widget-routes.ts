import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import express, { type Router } from "express";
import { ErrorCode, GatewayError } from "../../src/errors.ts";
import { sendError } from "../../src/http/http-app.ts";
import type { Logger } from "../../src/logger.ts";
import { demoPageCsp, demoPageHtml } from "./demo-page.ts";
import { widgetDistPath } from "./widget/build.ts";

/** The widget bundle as served: the script, its gzipped form and a validator. */
export interface ServedWidget {
  code: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * Builds the widget from its TypeScript when esbuild is installed (development, tests, images with dev
 * dependencies) so that it always matches the source; otherwise serves the file `npm run build:widget`
 * wrote. Undefined when neither is available.
 */
export async function loadWidget(logger: Logger): Promise<ServedWidget | undefined> {
  let code: string | undefined;
  try {
    const { buildWidget } = await import("./widget/build.ts");
    code = (await buildWidget()).code;
  } catch (error) {
    logger.debug({ err: (error as Error).message }, "widget not built in process; using the prebuilt file");
    code = await readFile(widgetDistPath, "utf8").catch(() => undefined);
  }
  if (code === undefined) {
    logger.warn("widget.js is not available: run `npm run build:widget`");
    return undefined;
  }
  const buffer = Buffer.from(code, "utf8");
  return {
    code: buffer,
    gzip: gzipSync(buffer, { level: 9 }),
    etag: `"${createHash("sha256").update(buffer).digest("base64url").slice(0, 22)}"`,
  };
}

/** `GET /webchat/widget.js` (the embeddable script) and `GET /webchat/demo` (a page embedding it). */
export function widgetRoutes(widget: ServedWidget | undefined): Router {
  const router = express.Router();

  router.get("/widget.js", (req, res) => {
    if (!widget) {
      sendError(
        res,
        new GatewayError(ErrorCode.NotFound, "widget.js is not built: run `npm run build:widget`."),
      );
      return;
    }
    res.setHeader("Content-Type", "text/javascript; charset=utf-8");
    // Any page may load the script; the API behind it is what checks origins.
    res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
    res.setHeader("Access-Control-Allow-Origin", "*");
    // Short caching: a new gateway version reaches every embedding page within minutes.
    res.setHeader("Cache-Control", "public, max-age=300");
    res.setHeader("ETag", widget.etag);
    res.vary("Accept-Encoding");
    if (req.headers["if-none-match"] === widget.etag) {
      res.status(304).end();
      return;
    }
    if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
      res.setHeader("Content-Encoding", "gzip");
      res.end(widget.gzip);
    } else {
      res.end(widget.code);
    }
  });

  router.get("/demo", (_req, res) => {
    const nonce = randomBytes(16).toString("base64");
    res.setHeader("Content-Security-Policy", demoPageCsp(nonce));
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    res.send(demoPageHtml(nonce));
  });

  return router;
}
