import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import { type Channel, ChannelSchema, type ConversationRef } from "../conversation/inbound-message.ts";
import { asCodedError, ErrorCode, GatewayError } from "../errors.ts";
import type { HandoffService } from "../handoff/handoff-service.ts";
import type { RedisHandoffStates } from "../handoff/handoff-state.ts";
import { sendError } from "../http/http-app.ts";
import { groupGaps } from "../insights/gap-grouping.ts";
import type { InsightsStore } from "../insights/insights-store.ts";
import { buildReport, formatReport, parseSince } from "../insights/support-report.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";
import type { UserDataEraser } from "../privacy/user-data-eraser.ts";
import { type AdminRole, parseAdminTokens, requireRole } from "./admin-auth.ts";
import type { AdminSettings } from "./admin-settings.ts";

/** Sends a support person's text into a conversation on its own channel. */
export type HumanReplier = (ref: ConversationRef, text: string) => Promise<void>;

export interface AdminRoutesOptions {
  /** ADMIN_TOKENS entries. */
  tokens: string[];
  insights: InsightsStore;
  knowledge: Pick<KnowledgeBase, "search">;
  states: RedisHandoffStates;
  handoff: HandoffService;
  settings: AdminSettings;
  eraser: UserDataEraser;
  /** Per channel; a channel without one cannot be replied to through the API (reply there directly). */
  repliers: Partial<Record<Channel, HumanReplier>>;
  logger: Logger;
}

const ReplyBody = z
  .object({ text: z.string().trim().min(1).max(4000), release: z.boolean().default(true) })
  .strict();

/**
 * The admin API under /admin/v1 (JSON; `Authorization: Bearer <token>` from ADMIN_TOKENS):
 * viewer: GET /reports, GET /handoffs; curator: GET /gaps, GET /knowledge/search; admin: GET
 * /handoffs/:id, POST /handoffs/:id/release, POST /handoffs/:id/reply, GET|PUT /settings,
 * DELETE /users/:channel/:userId. Every call is written to the audit log (role, action, target, status;
 * never the token or message text).
 */
export function adminRoutes(o: AdminRoutesOptions): Router {
  const tokens = parseAdminTokens(o.tokens);
  const audit = o.logger.child({ component: "admin-audit" });
  const router = express.Router();
  const json = express.json({ limit: "16kb", strict: true });
  // Refused calls are audited too: repeated 401s are how a guessed token shows up.
  const guard = (needed: AdminRole, action: string) =>
    requireRole(tokens, needed, (status, role) =>
      audit.warn({ role: role ?? null, action, status }, "admin action refused"),
    );

  const route =
    (
      action: string,
      fn: (req: Request, res: Response) => Promise<unknown>,
      target?: (req: Request) => string,
    ) =>
    async (req: Request, res: Response): Promise<void> => {
      const role = res.locals.adminRole as AdminRole;
      try {
        await fn(req, res);
        audit.info({ role, action, target: target?.(req), status: res.statusCode }, "admin action");
      } catch (error) {
        const coded = asCodedError(error);
        audit.info(
          { role, action, target: target?.(req), status: coded.status, code: coded.code },
          "admin action",
        );
        if (!res.headersSent) sendError(res, coded);
      }
    };
  const since = (req: Request) => Date.now() - parseSince(String(req.query.since ?? "7d"));
  const openHandoff = async (req: Request) => {
    const state = await o.states.get(String(req.params.id));
    if (!state)
      throw new GatewayError(ErrorCode.NotFound, "No open handoff with that id (released or expired).");
    return state;
  };
  const id = (req: Request) => String(req.params.id);

  router.get(
    "/reports",
    guard("viewer", "report.read"),
    route("report.read", async (req, res) => {
      const from = since(req);
      const report = buildReport(await o.insights.events(from), from, Date.now());
      const format = String(req.query.format ?? "json");
      if (format === "csv") res.type("text/csv").send(formatReport(report, "csv"));
      else if (format === "md") res.type("text/markdown").send(formatReport(report, "md"));
      else res.json(report);
    }),
  );

  router.get(
    "/handoffs",
    guard("viewer", "handoff.list"),
    route("handoff.list", async (_req, res) => {
      res.json({ handoffs: await o.states.list() });
    }),
  );

  router.get(
    "/gaps",
    guard("curator", "gaps.read"),
    route("gaps.read", async (req, res) => {
      const gaps = await o.insights.gaps(since(req));
      res.json({ gaps: gaps.length, groups: groupGaps(gaps) });
    }),
  );

  router.get(
    "/knowledge/search",
    guard("curator", "knowledge.search"),
    route("knowledge.search", async (req, res) => {
      const q = String(req.query.q ?? "").trim();
      if (!q) throw new GatewayError(ErrorCode.BadRequest, "Give a query: /admin/v1/knowledge/search?q=...");
      const limit = Math.min(50, Math.max(1, Number(req.query.limit ?? 10) || 10));
      const ranked = await o.knowledge.search(q, limit);
      res.json({
        results: ranked.map((r) => ({
          path: r.chunk.path,
          title: r.chunk.title,
          heading: r.chunk.headingPath.join(" > "),
          relevance: r.relevance,
          score: r.score,
        })),
      });
    }),
  );

  router.get(
    "/handoffs/:id",
    guard("admin", "handoff.read"),
    route(
      "handoff.read",
      async (req, res) => {
        const state = await openHandoff(req);
        res.json({ ...state, followUps: await o.states.followUps(state.id) });
      },
      id,
    ),
  );

  router.post(
    "/handoffs/:id/release",
    guard("admin", "handoff.release"),
    route(
      "handoff.release",
      async (req, res) => {
        const state = await openHandoff(req);
        await o.handoff.release(state.id, "admin-api");
        res.json({ id: state.id, released: true });
      },
      id,
    ),
  );

  router.post(
    "/handoffs/:id/reply",
    guard("admin", "handoff.reply"),
    json,
    route(
      "handoff.reply",
      async (req, res) => {
        const body = ReplyBody.safeParse(req.body ?? {});
        if (!body.success) {
          throw new GatewayError(
            ErrorCode.BadRequest,
            'The body must be like {"text": "...", "release": true}.',
          );
        }
        const state = await openHandoff(req);
        const replier = o.repliers[state.channel];
        if (!replier) {
          throw new GatewayError(
            ErrorCode.BadRequest,
            `Replies cannot be sent to ${state.channel} conversations through this API; answer in ${state.channel} and release the handoff.`,
          );
        }
        await replier(state, body.data.text);
        if (body.data.release) await o.handoff.release(state.id, "admin-api");
        else await o.states.markHuman(state.id);
        res.json({ id: state.id, delivered: true, released: body.data.release });
      },
      id,
    ),
  );

  router.get(
    "/settings",
    guard("admin", "settings.read"),
    route("settings.read", async (_req, res) => {
      res.json(await o.settings.get());
    }),
  );

  router.put(
    "/settings",
    guard("admin", "settings.update"),
    json,
    route("settings.update", async (req, res) => {
      res.json(await o.settings.update(req.body));
    }),
  );

  router.delete(
    "/users/:channel/:userId",
    guard("admin", "user.erase"),
    route(
      "user.erase",
      async (req, res) => {
        const channel = ChannelSchema.safeParse(req.params.channel);
        if (!channel.success)
          throw new GatewayError(ErrorCode.BadRequest, "Channel must be webchat, slack or teams.");
        res.json(await o.eraser.erase(channel.data, String(req.params.userId)));
      },
      (req) => `${String(req.params.channel)}:user`,
    ),
  );

  return router;
}
