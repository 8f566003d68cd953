import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { RateLimiter } from "../../src/conversation/rate-limiter.ts";
import { asCodedError, ErrorCode, GatewayError } from "../../src/errors.ts";
import { sendError } from "../../src/http/http-app.ts";
import type { Logger } from "../../src/logger.ts";
import { verifyIdentity } from "./identity.ts";
import type { OriginPolicy, WebchatSite } from "./origin-policy.ts";
import type { WebchatConversation, WebchatStore } from "./webchat-store.ts";

export interface WebchatGuardOptions {
  policy: OriginPolicy;
  store: WebchatStore;
  rateLimiter: RateLimiter;
  /** Requests that change something (POST, DELETE) per client IP per minute; 0: unlimited. */
  ipPerMinute: number;
  logger: Logger;
}

/** Headers a cross-origin widget sends; Last-Event-ID is how the event stream resumes. */
const allowHeaders = "authorization, content-type, last-event-id";

/**
 * Runs in front of the web chat API: decides the site from the Origin header (refusing unknown
 * origins), answers CORS for it, limits each IP, verifies the identity a page passes when it starts a
 * conversation, and keeps a conversation to the site that started it.
 */
export class WebchatGuard {
  readonly router: Router;
  readonly #o: WebchatGuardOptions;
  readonly #sites = new WeakMap<Request, WebchatSite>();
  readonly #users = new WeakMap<Request, string>();
  readonly #conversations = new WeakMap<Request, WebchatConversation>();

  constructor(options: WebchatGuardOptions) {
    this.#o = options;
    this.router = express.Router();
    this.router.use((req, res, next) => void this.#origin(req, res, next));
    this.router.use((req, res, next) => void this.#rate(req, res, next));
    // The conversation route itself ignores the body; the identity rides in it.
    this.router.post("/conversations", express.json({ limit: "4kb" }), (req, res, next) =>
      this.#identity(req, res, next),
    );
    this.router.use("/conversations/:id", (req, res, next) => void this.#sameSite(req, res, next));
  }

  /** The site of a request that passed the guard (the tenant of the conversation it starts). */
  readonly siteOf = (req: Request): string => this.#sites.get(req)?.id ?? "web";

  /** The verified user id of a conversation-creating request, when its page passed one. */
  readonly userOf = (req: Request): string | undefined => this.#users.get(req);

  /** The conversation a request's URL names, as the guard already loaded it (saves a second read). */
  readonly conversationOf = (req: Request): WebchatConversation | undefined => this.#conversations.get(req);

  async #origin(req: Request, res: Response, next: NextFunction): Promise<void> {
    const origin = req.headers.origin;
    const decision = this.#o.policy.decide(origin, `${req.protocol}://${req.get("host") ?? ""}`);
    if (!decision.allowed) {
      this.#o.logger.warn(
        { origin: decision.origin, path: req.path },
        "web chat request from a refused origin",
      );
      // The refusal is enforced here, on the server, for every request. The refused page may still read
      // it (CORS headers on the error, and a preflight that lets the request through to this refusal),
      // so that the widget can say in plain words that the chat is not available on that page.
      const origin = typeof req.headers.origin === "string" ? req.headers.origin : "";
      if (origin !== "" && origin !== "null") res.setHeader("Access-Control-Allow-Origin", origin);
      res.vary("Origin");
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", allowHeaders);
        res.status(204).end();
        return;
      }
      sendError(
        res,
        new GatewayError(
          ErrorCode.OriginRefused,
          "This site is not allowed to use the chat: add its origin to WEBCHAT_ALLOWED_ORIGINS or WEBCHAT_SITES.",
        ),
      );
      return;
    }
    this.#sites.set(req, decision.site);
    res.vary("Origin");
    if (decision.cors) {
      res.setHeader("Access-Control-Allow-Origin", decision.cors);
      res.setHeader("Access-Control-Expose-Headers", "retry-after");
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", allowHeaders);
        res.setHeader("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    next();
  }

  async #rate(req: Request, res: Response, next: NextFunction): Promise<void> {
    // Reading (history, the event stream and its reconnects) is not counted; only what costs work.
    if (req.method !== "POST" && req.method !== "DELETE") return next();
    try {
      const decision = await this.#o.rateLimiter.hit("webchat-ip", req.ip ?? "unknown", this.#o.ipPerMinute);
      if (!decision.allowed) {
        throw new GatewayError(
          ErrorCode.RateLimited,
          `Too many requests from this network; try again in ${decision.retryAfterSeconds} s.`,
          { retryAfterSeconds: decision.retryAfterSeconds },
        );
      }
      next();
    } catch (error) {
      sendError(res, asCodedError(error));
    }
  }

  #identity(req: Request, res: Response, next: NextFunction): void {
    try {
      const body: unknown = req.body ?? {};
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new GatewayError(ErrorCode.BadRequest, "The body must be a JSON object (it may be empty: {}).");
      }
      const site = this.#sites.get(req);
      const userId = site ? verifyIdentity(site, body) : undefined;
      if (userId !== undefined) this.#users.set(req, userId);
      next();
    } catch (error) {
      const coded = asCodedError(error);
      if (coded.code !== ErrorCode.Internal)
        this.#o.logger.info({ code: coded.code }, "web chat identity refused");
      sendError(res, coded);
    }
  }

  /** A conversation's token only works from the site that started it (a token copied elsewhere is useless). */
  async #sameSite(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const conversation = await this.#o.store.get(String(req.params.id));
      if (conversation && conversation.tenant !== this.siteOf(req)) {
        throw new GatewayError(ErrorCode.OriginRefused, "This conversation belongs to another site.");
      }
      if (conversation) this.#conversations.set(req, conversation);
      next();
    } catch (error) {
      sendError(res, asCodedError(error));
    }
  }
}
