import { type App, type Logger as BoltLogger, ExpressReceiver, type ReceiverEvent } from "@slack/bolt";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { z } from "zod";
import { asCodedError, ErrorCode, errorBody, GatewayError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";

export interface SlackHttpReceiverOptions {
  /** The channel's router on the gateway (mounted at `/`); the receiver adds one POST route to it. */
  routes: Router;
  signingSecret: string;
  boltLogger: BoltLogger;
  logger: Logger;
  /** @defaultValue "/slack/events" */
  path?: string;
}

/** Envelope types the adapter acts on: Events API callbacks and button clicks. */
const HANDLED_TYPES = new Set(["event_callback", "block_actions"]);

/**
 * The least of each envelope that Bolt reads without checking (it throws a TypeError on anything
 * less): a signed but malformed body gets a 400 instead of a 500 that Slack would retry. This is the one
 * check Bolt lacks; the fuzz tests found the 500s it prevents.
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

/** Bolt answers its own refusals with an empty body; ours say what happened (the gateway's JSON shape). */
const REFUSALS: Record<number, GatewayError> = {
  400: new GatewayError(ErrorCode.MalformedJson, "The request body is not valid JSON or form data."),
  401: new GatewayError(
    ErrorCode.Unauthorized,
    "The Slack signature is missing, does not match, or is more than five minutes old: check SLACK_SIGNING_SECRET.",
  ),
  413: new GatewayError(ErrorCode.PayloadTooLarge, "The request body is too large."),
};

function codedRefusals(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = ((body?: unknown) => {
    const refusal = body === undefined ? REFUSALS[res.statusCode] : undefined;
    if (refusal) {
      res.type("application/json");
      return send(JSON.stringify(errorBody(refusal)));
    }
    return send(body);
  }) as Response["send"];
  next();
}

/**
 * Bolt's `ExpressReceiver` on the gateway's own HTTP server: Bolt verifies the signature (HMAC over the
 * raw body, five-minute window), parses JSON and form bodies, answers `url_verification` and `ssl_check`,
 * and with `processBeforeResponse` holds the HTTP response until the listeners have accepted the message,
 * so a 200 means accepted and a failure answers 5xx (Slack delivers again). In front of Bolt's dispatch
 * sits the envelope check above; envelopes this bot does not handle are acknowledged without reaching
 * Bolt's listeners.
 */
class EnvelopeCheckingReceiver extends ExpressReceiver {
  readonly #log: Logger;

  constructor(options: ConstructorParameters<typeof ExpressReceiver>[0], log: Logger) {
    super(options);
    this.#log = log;
  }

  override init(bolt: App): void {
    // ExpressReceiver calls only `processEvent` on the app: it gets the checked dispatch.
    super.init({ processEvent: (event: ReceiverEvent) => this.#dispatch(bolt, event) } as unknown as App);
  }

  async #dispatch(bolt: App, event: ReceiverEvent): Promise<void> {
    const body: unknown = event.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new GatewayError(ErrorCode.BadRequest, "The request body must be a JSON object.");
    }
    const type = String((body as { type?: unknown }).type);
    if (type === "app_rate_limited") {
      // Slack is dropping this workspace's events for a minute: worth an operator's attention.
      const { team_id: team, minute_rate_limited: minute } = body as Record<string, unknown>;
      this.#log.warn({ team, minute }, "slack rate-limited event delivery");
      await event.ack();
      return;
    }
    if (!HANDLED_TYPES.has(type)) {
      // Signed by Slack but nothing this bot handles (slash commands, shortcuts, views, unknown shapes):
      // acknowledged so Slack does not retry, and kept out of Bolt, which assumes a well-formed envelope.
      this.#log.debug({ type }, "slack request type not handled; acknowledged");
      await event.ack();
      return;
    }
    if (!EnvelopeSchema.safeParse(body).success) {
      throw new GatewayError(ErrorCode.BadRequest, `Malformed Slack ${type} payload.`);
    }
    let acked = false;
    await bolt.processEvent({
      ...event,
      ack: async (response?: unknown) => {
        acked = true;
        await event.ack(response as never);
      },
    });
    // A click on a button no listener knows: acknowledged, or Slack shows the user an error.
    if (!acked) await event.ack();
  }
}

/** Mounts Bolt's ExpressReceiver on the channel's router and returns it for `new App({ receiver })`. */
export function createSlackHttpReceiver(options: SlackHttpReceiverOptions): ExpressReceiver {
  const path = options.path ?? "/slack/events";
  const log = options.logger.child({ component: "slack-receiver" });
  const router = express.Router();
  router.post(path, codedRefusals);
  const receiver = new EnvelopeCheckingReceiver(
    {
      signingSecret: options.signingSecret,
      logger: options.boltLogger,
      endpoints: path,
      router,
      processBeforeResponse: true,
      processEventErrorHandler: async ({ error, response }) => {
        if (response.headersSent) return false;
        const coded = asCodedError(error);
        const clientError = coded.status >= 400 && coded.status < 500;
        if (!clientError) log.error({ code: coded.code, err: error }, "slack event processing failed");
        // Not acknowledged: a 5xx makes Slack deliver again (the dedupe keys were released). Internal
        // details stay in the log.
        const shown = clientError
          ? coded
          : new GatewayError(
              ErrorCode.Internal,
              "The event could not be accepted; Slack will deliver it again.",
            );
        response.writeHead(clientError ? coded.status : 500, { "content-type": "application/json" });
        response.end(JSON.stringify(errorBody(shown)));
        return true;
      },
    },
    log,
  );
  options.routes.use(router);
  return receiver;
}
