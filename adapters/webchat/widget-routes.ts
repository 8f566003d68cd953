import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import express, { type Request, type Response, type Router } from "express";
import { ErrorCode, GatewayError } from "../../src/errors.ts";
import { baseUrlOf, sendHtmlPage } from "../../src/http/html-page.ts";
import { sendError } from "../../src/http/http-app.ts";
import type { Logger } from "../../src/logger.ts";
import { demoPageHtml } from "./demo-page.ts";
import { widgetDistPath } from "./widget/build.ts";
import { languagePacks } from "./widget/i18n/packs.ts";

/** A file as served: its bytes, their gzipped form and a validator. */
export interface ServedAsset {
  code: Buffer;
  gzip: Buffer;
  etag: string;
}

/** The widget bundle as served. */
export type ServedWidget = ServedAsset;

function servedAsset(text: string): ServedAsset {
  const code = Buffer.from(text, "utf8");
  return {
    code,
    gzip: gzipSync(code, { level: 9 }),
    etag: `"${createHash("sha256").update(code).digest("base64url").slice(0, 22)}"`,
  };
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
  return servedAsset(code);
}

/** Each language pack as the JSON the widget fetches, by language code. */
export function languagePackAssets(): Map<string, ServedAsset> {
  return new Map(
    Object.entries(languagePacks).map(([lang, strings]) => [lang, servedAsset(JSON.stringify(strings))]),
  );
}

/**
 * Sends a public, cross-origin asset (any page may load the widget's files; the API behind them is what
 * checks origins): gzipped when the client takes it, revalidated by ETag, cached briefly so that a new
 * gateway version reaches every embedding page within minutes.
 */
function sendAsset(req: Request, res: Response, asset: ServedAsset, type: string): void {
  res.setHeader("Content-Type", type);
  res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.setHeader("Cache-Control", "public, max-age=300");
  res.setHeader("ETag", asset.etag);
  res.vary("Accept-Encoding");
  if (req.headers["if-none-match"] === asset.etag) {
    res.status(304).end();
    return;
  }
  if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
    res.setHeader("Content-Encoding", "gzip");
    res.end(asset.gzip);
  } else {
    res.end(asset.code);
  }
}

const languageTag = /^[a-z]{2,3}(?:-[a-z0-9]{1,8}){0,3}$/i;

export interface WidgetRoutesOptions {
  widget: ServedWidget | undefined;
  /** PUBLIC_URL: the base of the URLs the pages show. */
  publicUrl?: string | undefined;
}

/**
 * `GET /webchat/widget.js` (the embeddable script), `GET /webchat/i18n/<lang>.json` (its language
 * packs) and `GET /webchat/demo` (a page embedding it; `?lang=fr` shows it in another language).
 */
export function widgetRoutes({ widget, publicUrl }: WidgetRoutesOptions): Router {
  const router = express.Router();
  const packs = languagePackAssets();

  router.get("/widget.js", (req, res) => {
    if (!widget) {
      sendError(
        res,
        new GatewayError(ErrorCode.NotFound, "widget.js is not built: run `npm run build:widget`."),
      );
      return;
    }
    sendAsset(req, res, widget, "text/javascript; charset=utf-8");
  });

  router.get("/i18n/:file", (req, res) => {
    const pack = packs.get(String(req.params.file).replace(/\.json$/, ""));
    if (!pack || !String(req.params.file).endsWith(".json")) {
      sendError(
        res,
        new GatewayError(
          ErrorCode.NotFound,
          `No such language pack. Packs: ${[...packs.keys()].map((l) => `${l}.json`).join(", ")}.`,
        ),
      );
      return;
    }
    sendAsset(req, res, pack, "application/json; charset=utf-8");
  });

  router.get("/demo", (req, res) => {
    const lang =
      typeof req.query.lang === "string" && languageTag.test(req.query.lang) ? req.query.lang : undefined;
    sendHtmlPage(res, (nonce) => demoPageHtml({ nonce, baseUrl: baseUrlOf(req, publicUrl), lang }));
  });

  return router;
}
