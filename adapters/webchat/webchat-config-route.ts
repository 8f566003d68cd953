import express, { type Router } from "express";
import type { Logger } from "../../src/logger.ts";
import type { OriginPolicy } from "./origin-policy.ts";

/**
 * `GET /webchat/v1/config`: tells the widget, before it shows anything, whether the page it runs on may
 * use the chat, so that a site that is not allowed shows no launcher at all rather than one that fails
 * once the visitor has typed. Mounted ahead of the guard (which refuses such pages outright): this
 * answer is 200 either way, so the browser logs no failed request and the widget's own console line
 * is the only one. The answer is readable cross-origin (the Origin echoed, as the guard does for its
 * refusals); it tells a page nothing it could not learn by trying the API.
 */
export function webchatConfigRoute(policy: OriginPolicy, logger: Logger): Router {
  const router = express.Router();
  router.get("/config", (req, res) => {
    const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
    const decision = policy.decide(origin, `${req.protocol}://${req.get("host") ?? ""}`);
    if (!decision.allowed) {
      // The operator's half of the widget's console line: which site tried to embed the chat.
      logger.warn({ origin: decision.origin }, "web chat widget on a page from a refused origin");
    }
    if (origin && origin !== "null") res.setHeader("Access-Control-Allow-Origin", origin);
    res.vary("Origin");
    // The allow-list changes with a restart; never let a cached "no" outlive it.
    res.setHeader("Cache-Control", "no-store");
    res.json({ allowed: decision.allowed });
  });
  return router;
}
