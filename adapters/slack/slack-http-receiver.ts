import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import { asCodedError, type CodedError, ErrorCode, errorBody, GatewayError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { verifySlackSignature } from "./slack-signature.ts";

export interface SlackHttpReceiverOptions {
  /** The channel's router on the gateway; the receiver mounts one POST route on it. */
  app: Router;
  signingSecret: string;
  logger: Logger;
  /** @defaultValue "/slack/events" */
  path?: string;
  /**
   * Longest time an Events API request is held while the message is being accepted; Slack gives up
   * (and retries) after 3 s, so answer 200 before that even if accepting is slow.
   * @defaultValue 2500
   */
  ackDeadlineMs?: number;
  /** Largest body accepted. @defaultValue "1mb" */
  bodyLimit?: string;
}

type Body = Record<string, unknown>;

/** Envelope types the adapter acts on: Events API callbacks and button clicks. */
const HANDLED_TYPES = new Set(["event_callback", "block_actions"]);

/**
 * The least of each envelope that Bolt reads without checking (it throws a TypeError on anything
 * less): a signed but malformed body gets a 400 instead of a 500 that Slack would retry.
 */
const EnvelopeSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("event_callback"),
    team_id: z.string(),
    event: z.object({ type: z.string() }),
  }),
  z.object({
    type: z.literal("block_actions"),
    user: z.object({ id: z.string() }),
    team: z.object({ id: z.string() }).nullable().optional(),
    actions: z.array(z.object({ action_id: z.string() })),
  }),
]);

/**
 * A Bolt receiver mounted on the gateway's own HTTP server (Bolt's ExpressReceiver wants a server of its
 * own). It verifies the signature on the raw bytes before parsing anything, answers url_verification,
 * and hands everything else to `app.processEvent`.
 *
 * Acknowledgement: Bolt acks Events API requests before listeners run, but this receiver holds the HTTP
 * response until the listeners finish, so a 200 means the message was durably accepted (a 500 makes
 * Slack retry). Interactive payloads are answered as soon as the listener calls `ack()`.
 */
export class SlackHttpReceiver implements Receiver {
  readonly #options: Required<Omit<SlackHttpReceiverOptions, "app" | "logger">>;
  readonly #express: Router;
  readonly #logger: Logger;
  #bolt: App | undefined;
  #accepting = false;

  constructor({
    app,
    signingSecret,
    logger,
    path = "/slack/events",
    ackDeadlineMs = 2500,
    bodyLimit = "1mb",
  }: SlackHttpReceiverOptions) {
    this.#express = app;
    this.#logger = logger.child({ component: "slack-receiver" });
    this.#options = { signingSecret, path, ackDeadlineMs, bodyLimit };
    // A route-level raw parser: the signature covers the exact bytes, so no JSON parser may run first.
    this.#express.post(path, express.raw({ type: () => true, limit: bodyLimit }), (req, res) => {
      void this.#handle(req, res);
    });
  }

  init(app: App): void {
    this.#bolt = app;
  }

  async start(): Promise<void> {
    this.#accepting = true;
  }

  async stop(): Promise<void> {
    this.#accepting = false;
  }

  async #handle(req: Request, res: Response): Promise<void> {
    const raw: unknown = req.body;
    if (!Buffer.isBuffer(raw)) {
      // Another body parser consumed the stream before this route: the signature cannot be checked.
      this.#logger.error(
        "the Slack route received a parsed body; mount JSON parsers per route, not globally",
      );
      this.#fail(res, new GatewayError(ErrorCode.Internal, "The Slack endpoint is misconfigured."));
      return;
    }
    try {
      verifySlackSignature({
        signingSecret: this.#options.signingSecret,
        timestamp: req.header("x-slack-request-timestamp"),
        signature: req.header("x-slack-signature"),
        rawBody: raw,
      });
    } catch (error) {
      this.#logger.warn({ code: asCodedError(error).code }, "slack request refused: bad signature");
      this.#fail(res, asCodedError(error));
      return;
    }
    let body: Body;
    try {
      body = parseSlackBody(raw, req.header("content-type"));
    } catch (error) {
      this.#fail(res, asCodedError(error));
      return;
    }
    if (body.type === "url_verification") {
      res.status(200).json({ challenge: body.challenge });
      return;
    }
    if (body.type === "app_rate_limited") {
      // Slack is dropping this workspace's events for a minute: worth an operator's attention.
      this.#logger.warn(
        { team: body.team_id, minute: body.minute_rate_limited },
        "slack rate-limited event delivery",
      );
      res.status(200).end();
      return;
    }
    if (body.ssl_check !== undefined) {
      res.status(200).end();
      return;
    }
    if (!HANDLED_TYPES.has(String(body.type))) {
      // Signed by Slack but nothing this bot handles (slash commands, shortcuts, views, unknown shapes):
      // acknowledged so Slack does not retry, and kept out of Bolt, which assumes a well-formed envelope.
      this.#logger.debug({ type: String(body.type) }, "slack request type not handled; acknowledged");
      res.status(200).end();
      return;
    }
    if (!EnvelopeSchema.safeParse(body).success) {
      this.#fail(
        res,
        new GatewayError(ErrorCode.BadRequest, `Malformed Slack ${String(body.type)} payload.`),
      );
      return;
    }
    if (!this.#accepting || this.#bolt === undefined) {
      this.#fail(
        res,
        new GatewayError(ErrorCode.Busy, "The Slack channel is not started yet; Slack will retry."),
      );
      return;
    }
    await this.#dispatch(this.#bolt, body, req, res);
  }

  async #dispatch(bolt: App, body: Body, req: Request, res: Response): Promise<void> {
    const isEvent = body.type === "event_callback";
    let responded = false;
    let ackResponse: unknown;
    const send = (payload: unknown) => {
      if (responded) return;
      responded = true;
      if (payload === undefined || payload === "") res.status(200).end();
      else if (typeof payload === "string") res.status(200).type("text/plain").send(payload);
      else res.status(200).json(payload);
    };
    const timer = setTimeout(() => {
      if (!responded)
        this.#logger.warn(
          { ms: this.#options.ackDeadlineMs },
          "slack request still processing; acknowledging",
        );
      send(ackResponse);
    }, this.#options.ackDeadlineMs);
    const retryNum = Number(req.header("x-slack-retry-num"));
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => {
        ackResponse = response;
        if (!isEvent) send(response);
      },
      retryNum: Number.isInteger(retryNum) ? retryNum : undefined,
      retryReason: req.header("x-slack-retry-reason") ?? undefined,
    };
    try {
      await bolt.processEvent(event);
      send(ackResponse);
    } catch (error) {
      const coded = asCodedError(error);
      this.#logger.error({ code: coded.code, err: error }, "slack event processing failed");
      // Not acknowledged yet: a 500 makes Slack deliver again, and the dedupe keys were released.
      if (!responded) {
        responded = true;
        res.status(coded.status >= 400 && coded.status < 500 ? coded.status : 500).json(errorBody(coded));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #fail(res: Response, error: CodedError): void {
    res.status(error.status).json(errorBody(error));
  }
}

/**
 * Events API requests are JSON; interactive payloads (buttons) are form-encoded with one `payload` field
 * holding JSON; slash commands are plain form fields.
 * @throws GatewayError malformed_json / bad_request
 */
export function parseSlackBody(raw: Buffer, contentType: string | undefined): Body {
  const text = raw.toString("utf8");
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded") {
    const form = new URLSearchParams(text);
    const payload = form.get("payload");
    if (payload === null) return Object.fromEntries(form.entries());
    return parseObject(payload);
  }
  if (type === "application/json" || type === "") return parseObject(text);
  throw new GatewayError(
    ErrorCode.BadRequest,
    `Unsupported content type "${type}": Slack sends JSON or form data.`,
  );
}

function parseObject(text: string): Body {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError(ErrorCode.MalformedJson, "The request body is not valid JSON.");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new GatewayError(ErrorCode.BadRequest, "The request body must be a JSON object.");
  }
  return parsed as Body;
}
