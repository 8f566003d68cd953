import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import type { FeedbackService } from "../../src/conversation/feedback.ts";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";
import { asCodedError, ErrorCode, GatewayError } from "../../src/errors.ts";
import type { HandoffService } from "../../src/handoff/handoff-service.ts";
import { sendError } from "../../src/http/http-app.ts";
import { type SessionClaims, type SessionTokens, tokenFrom } from "./session-token.ts";
import type { WebchatStore } from "./webchat-store.ts";

export interface WebchatActionsRoutesOptions {
  store: WebchatStore;
  tokens: SessionTokens;
  /** Absent: the feedback route answers not_found. */
  feedback?: FeedbackService;
  /** Absent: the handoff route answers not_found. */
  handoff?: HandoffService;
}

const FeedbackBody = z.object({
  messageId: z.string().min(1).max(200),
  vote: z.enum(["up", "down"]),
  reason: z.string().max(2000).optional(),
});
const HandoffBody = z.object({ messageId: z.string().min(1).max(200).optional() });

/**
 * The widget's answer actions under /webchat/v1: `POST /conversations/:id/feedback` (thumbs up/down)
 * and `POST /conversations/:id/handoff` ("talk to a person"), through the channel-neutral services.
 */
export function webchatActionsRoutes(o: WebchatActionsRoutesOptions): Router {
  const router = express.Router();
  const json = express.json({ limit: "8kb", strict: true });

  const authorize = async (req: Request): Promise<{ claims: SessionClaims; ref: ConversationRef }> => {
    const id = String(req.params.id);
    const claims = o.tokens.verify(tokenFrom(req.headers.authorization, undefined), id);
    const conversation = await o.store.get(id);
    if (!conversation) {
      throw new GatewayError(
        ErrorCode.ConversationNotFound,
        "This conversation does not exist or has expired.",
      );
    }
    return { claims, ref: { channel: "webchat", tenant: conversation.tenant, conversationKey: id } };
  };

  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        await fn(req, res);
      } catch (error) {
        if (!res.headersSent) sendError(res, asCodedError(error));
      }
    };

  router.post(
    "/conversations/:id/feedback",
    json,
    handle(async (req, res) => {
      const { claims, ref } = await authorize(req);
      if (!o.feedback) throw new GatewayError(ErrorCode.NotFound, "Feedback is not enabled on this gateway.");
      const body = FeedbackBody.safeParse(req.body);
      if (!body.success) {
        throw new GatewayError(
          ErrorCode.BadRequest,
          'The body must be like {"messageId": "...", "vote": "up"}.',
        );
      }
      const { messageId, vote, reason } = body.data;
      const stored = await o.feedback.record({
        ref,
        turnId: messageId,
        vote,
        userId: claims.u,
        ...(reason ? { reason } : {}),
      });
      res.json({ messageId, vote: stored.vote });
    }),
  );

  router.post(
    "/conversations/:id/handoff",
    json,
    handle(async (req, res) => {
      const { claims, ref } = await authorize(req);
      if (!o.handoff)
        throw new GatewayError(ErrorCode.NotFound, "Handoff to a person is not enabled on this gateway.");
      const body = HandoffBody.safeParse(req.body ?? {});
      if (!body.success)
        throw new GatewayError(ErrorCode.BadRequest, 'The body must be like {"messageId": "..."}.');
      const result = await o.handoff.request({
        ref,
        userId: claims.u,
        ...(body.data.messageId ? { turnId: body.data.messageId } : {}),
      });
      // message: the configured "what happens next" text, for the widget to show.
      res.status(202).json({
        accepted: result.accepted,
        deliveredTo: result.deliveredTo,
        ...(result.notice ? { message: result.notice } : {}),
      });
    }),
  );

  return router;
}
