import { randomUUID } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import type { Conversations, LoggedMessage } from "../../src/conversation/conversations.ts";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";
import { asCodedError, ErrorCode, GatewayError } from "../../src/errors.ts";
import { sendError } from "../../src/http/http-app.ts";
import type { Logger } from "../../src/logger.ts";
import { type SessionClaims, type SessionTokens, tokenFrom } from "./session-token.ts";
import { openEventStream, parseEventId, SseSink } from "./sse-sink.ts";
import type { WebchatConversation, WebchatStore } from "./webchat-store.ts";

const MessageBody = z.object({
  text: z.string(),
  /** The client's own id for this message: resending it after a network error never asks twice. */
  clientMessageId: z.string().min(1).max(100).optional(),
  /** The visitor's language as the page states it (BCP 47), so that the answer can be written in it. */
  lang: z
    .string()
    .max(35)
    .regex(/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i)
    .optional(),
});

export interface WebchatRoutesOptions {
  conversations: Conversations;
  store: WebchatStore;
  tokens: SessionTokens;
  logger: Logger;
  /** The request body limit; messages are also checked against MAX_MESSAGE_CHARS. */
  bodyLimit: string;
  /** Tenant for a new conversation (one site per gateway unless the request says otherwise). */
  tenantOf: (req: Request) => string;
  /** The conversation a request names, when the guard already loaded it. */
  conversationOf?: (req: Request) => WebchatConversation | undefined;
  /** User id for a new conversation (anonymous unless the site verifies identities). */
  userOf?: (req: Request) => string | undefined;
  /** Every SSE connection sends a comment this often so proxies keep it open. @defaultValue 15000 */
  heartbeatMs?: number;
}

const refOf = (conversation: WebchatConversation): ConversationRef => ({
  channel: "webchat",
  tenant: conversation.tenant,
  conversationKey: conversation.id,
});

/** The web chat API under /webchat/v1 (see README: "Web chat API"). */
export function webchatRoutes(o: WebchatRoutesOptions): Router {
  const router = express.Router();
  const json = express.json({ limit: o.bodyLimit, strict: true });
  const heartbeatMs = o.heartbeatMs ?? 15_000;

  /** Verifies the token for the URL's conversation, then loads the conversation. */
  const authorize = async (
    req: Request,
  ): Promise<{ claims: SessionClaims; conversation: WebchatConversation }> => {
    const id = String(req.params.id);
    const claims = o.tokens.verify(tokenFrom(req.headers.authorization, req.query.token), id);
    const conversation = o.conversationOf?.(req) ?? (await o.store.get(id));
    if (!conversation) {
      throw new GatewayError(
        ErrorCode.ConversationNotFound,
        "This conversation does not exist or has expired.",
      );
    }
    return { claims, conversation };
  };

  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        await fn(req, res);
      } catch (error) {
        const coded = asCodedError(error);
        if (coded.code === ErrorCode.Internal)
          o.logger.error({ err: coded.message }, "web chat request failed");
        if (!res.headersSent) sendError(res, coded);
      }
    };

  router.post(
    "/conversations",
    handle(async (req, res) => {
      const conversation = await o.store.create(o.tenantOf(req), o.userOf?.(req));
      const token = o.tokens.issue(conversation.id, conversation.userId);
      res.status(201).json({ conversationId: conversation.id, token });
    }),
  );

  router.post(
    "/conversations/:id/messages",
    json,
    handle(async (req, res) => {
      const { conversation } = await authorize(req);
      const body = MessageBody.safeParse(req.body);
      if (!body.success) {
        throw new GatewayError(
          ErrorCode.BadRequest,
          'The body must be a JSON object like {"text": "your question"} (optional: "clientMessageId", ' +
            'and "lang", a language tag such as "fr" or "pt-BR").',
        );
      }
      const clientId = body.data.clientMessageId ?? randomUUID();
      const submission = await o.conversations.submit({
        channel: "webchat",
        tenant: conversation.tenant,
        conversationKey: conversation.id,
        userId: conversation.userId,
        text: body.data.text,
        // Scoped by conversation so one client's ids can never address another conversation's messages.
        platformMessageId: `${conversation.id}/${clientId}`,
        receivedAt: Date.now(),
        replyTo: { conversationId: conversation.id },
        ...(body.data.lang ? { lang: body.data.lang } : {}),
      });
      // Keeps the session alive while it is used; nothing waits on it.
      void o.store.touch(conversation).catch(() => undefined);
      // handedOff: a person has the conversation; no answer will stream for this message.
      res.status(202).json({
        messageId: submission.messageId,
        ...(submission.duplicate ? { duplicate: true } : {}),
        ...(submission.handedOff ? { handedOff: true } : {}),
      });
    }),
  );

  router.delete(
    "/conversations/:id/messages/:messageId",
    handle(async (req, res) => {
      const { conversation } = await authorize(req);
      const messageId = String(req.params.messageId);
      if ((await o.conversations.conversationOf(messageId)) !== conversation.id) {
        throw new GatewayError(ErrorCode.NotFound, "No such message in this conversation.");
      }
      await o.conversations.cancel(messageId);
      res.status(202).json({ messageId, cancelled: true });
    }),
  );

  router.get(
    "/conversations/:id",
    handle(async (req, res) => {
      const { conversation } = await authorize(req);
      const turns = await o.conversations.turns(refOf(conversation));
      res.json({
        conversationId: conversation.id,
        turns: turns.map(({ id, question, answer, citations, at, feedback }) => ({
          messageId: id,
          question,
          answer,
          citations,
          at,
          ...(feedback ? { feedback } : {}),
        })),
      });
    }),
  );

  router.get(
    "/conversations/:id/events",
    handle(async (req, res) => {
      const { conversation } = await authorize(req);
      const resume = parseEventId(req.headers["last-event-id"] ?? req.query.lastEventId);
      openEventStream(res);
      streamConversation(o.conversations, refOf(conversation), res, resume, heartbeatMs);
    }),
  );

  return router;
}

/**
 * Streams every answer of the conversation, one after another in answer order, from the resume point
 * (or from the oldest kept message) until the client goes away.
 */
function streamConversation(
  conversations: Conversations,
  ref: ConversationRef,
  res: Response,
  resume: { logId: string; replyId: string } | undefined,
  heartbeatMs: number,
): void {
  const closed = new AbortController();
  const queue: LoggedMessage[] = [];
  let running = false;

  const drain = async () => {
    if (running) return;
    running = true;
    while (queue.length > 0 && !closed.signal.aborted) {
      const { messageId, logId, known } = queue.shift() as LoggedMessage;
      const after = resume && logId === resume.logId ? resume.replyId : "0";
      const sink = new SseSink(res, messageId, logId);
      await conversations
        .follow(messageId, sink, {
          signal: closed.signal,
          after,
          onEntry: (id) => sink.entry(id),
          ...(known ? { known } : {}),
        })
        .catch(() => undefined);
    }
    running = false;
  };

  const stopWatching = conversations.watch(ref, "0", (message) => {
    // Messages before the resume point were fully delivered on an earlier connection.
    if (resume && compareLogIds(message.logId, resume.logId) < 0) return;
    queue.push(message);
    void drain();
  });
  const heartbeat = setInterval(() => res.write(": ping\n\n"), heartbeatMs);
  res.on("close", () => {
    clearInterval(heartbeat);
    stopWatching();
    closed.abort();
  });
}

function compareLogIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am === bm ? as - bs : am - bm;
}
