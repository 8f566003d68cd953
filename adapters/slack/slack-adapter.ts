import { App, type Receiver, webApi } from "@slack/bolt";
import type { Config } from "../../src/config.ts";
import type { FeedbackService } from "../../src/conversation/feedback.ts";
import { asCodedError, ConfigError } from "../../src/errors.ts";
import type { HandoffService } from "../../src/handoff/handoff-service.ts";
import type { Logger } from "../../src/logger.ts";
import type { AdapterContext, ChannelAdapter } from "../types.ts";
import { boltLogger } from "./bolt-logger.ts";
import type { AnswerControls } from "./slack-blocks.ts";
import { SlackDelivery } from "./slack-delivery.ts";
import { SlackEventDedupe } from "./slack-event-dedupe.ts";
import { SlackHandoffDestination } from "./slack-handoff-destination.ts";
import { SlackHttpReceiver } from "./slack-http-receiver.ts";
import { registerInteractions } from "./slack-interactions.ts";
import {
  type SlackMessageEvent,
  type SlackReplyTarget,
  selectMessage,
  toInboundMessage,
} from "./slack-message.ts";
import { SlackOutbox } from "./slack-outbox.ts";
import { type StreamingSupport, slackErrorCode } from "./slack-reply-sink.ts";
import { SlackSocketReceiver } from "./slack-socket-receiver.ts";

export interface SlackAdapterOptions {
  /** See SlackReplySink. @defaultValue 250 */
  appendIntervalMs?: number;
  /** See SlackReplySink. @defaultValue 1000 */
  updateIntervalMs?: number;
  /** See SlackHttpReceiver. @defaultValue 2500 */
  ackDeadlineMs?: number;
  /** Retries of a failed Web API call (429s included) before an answer is given up. @defaultValue 5 */
  apiRetries?: number;
  /** Per-request Web API timeout in milliseconds (then retried). @defaultValue 20000 */
  apiTimeoutMs?: number;
  /** How long an owed answer stays with the gateway delivering it without renewal. @defaultValue 30000 */
  outboxLeaseMs?: number;
  /** How often owed answers nobody delivers are taken over. @defaultValue 15000 */
  sweepIntervalMs?: number;
}

export type SlackTransport = "http" | "socket";

/**
 * Socket Mode when SLACK_SOCKET_MODE is on, or when only an app-level token is given (no signing
 * secret: there is no public URL to sign requests to); the Events API over HTTP otherwise.
 */
export function slackTransport(slack: Config["slack"]): SlackTransport {
  if (slack.socketMode || (slack.appToken !== undefined && slack.signingSecret === undefined))
    return "socket";
  return "http";
}

/** True when the configuration asks for the Slack channel at all. */
export function slackEnabled(slack: Config["slack"]): boolean {
  return slack.botToken !== undefined;
}

/** The Web API base URL must end with "/": the client appends method names to it. */
function apiUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return raw.endsWith("/") ? raw : `${raw}/`;
}

/**
 * The Slack channel on Bolt: app mentions in channels and every DM message, answered in the thread,
 * streamed; over the Events API (POST /slack/events on the gateway) or Socket Mode.
 */
export class SlackAdapter implements ChannelAdapter {
  readonly channel = "slack" as const;
  readonly #slack: Config["slack"];
  readonly #options: SlackAdapterOptions;
  readonly #streaming: StreamingSupport = { enabled: true };
  #delivery: SlackDelivery | undefined;
  #ctx: AdapterContext | undefined;
  #log: Logger | undefined;
  #bolt: App | undefined;
  #receiver: Receiver | undefined;
  #dedupe: SlackEventDedupe | undefined;
  #transport: SlackTransport = "http";
  #botUserId: string | undefined;
  #feedback: FeedbackService | undefined;
  #handoff: HandoffService | undefined;

  constructor(slack: Config["slack"], options: SlackAdapterOptions = {}) {
    this.#slack = slack;
    this.#options = options;
  }

  async init(context: AdapterContext): Promise<void> {
    const { logger, redis, keys, limits } = context;
    const slack = this.#slack;
    const log = logger.child({ component: "slack" });
    this.#ctx = context;
    this.#log = log;
    if (!slack.botToken)
      throw new ConfigError("SLACK_BOT_TOKEN is required for the Slack channel (xoxb-...).");
    this.#transport = slackTransport(slack);
    if (this.#transport === "http" && !slack.signingSecret) {
      throw new ConfigError(
        "SLACK_SIGNING_SECRET is required for the Slack Events API (or use SLACK_SOCKET_MODE).",
      );
    }
    if (this.#transport === "socket" && !slack.appToken) {
      throw new ConfigError("SLACK_APP_TOKEN (xapp-...) is required for Slack Socket Mode.");
    }
    const bLogger = boltLogger(log, { content: limits.logContent });
    const slackApiUrl = apiUrl(slack.apiUrl);
    const clientOptions: webApi.WebClientOptions = {
      ...(slackApiUrl ? { slackApiUrl } : {}),
      logger: bLogger,
      // Bounded: a 429 is waited out (Retry-After) and retried, but an answer is not held for half an hour.
      retryConfig: { retries: this.#options.apiRetries ?? 5, factor: 2, minTimeout: 500, maxTimeout: 10_000 },
      // The client waits forever by default; a hung request would hold an answer (and its thread) hostage.
      timeout: this.#options.apiTimeoutMs ?? 20_000,
    };
    const client = new webApi.WebClient(slack.botToken, clientOptions);
    // Learn who the bot is once, so that its own messages and mentions are recognised without an
    // auth.test per event; if Slack is unreachable now, Bolt asks again on the first event.
    let botId: string | undefined;
    try {
      const auth = await client.auth.test();
      this.#botUserId = auth.user_id;
      botId = auth.bot_id;
    } catch (error) {
      log.warn(
        { err: slackErrorCode(error) ?? String(error) },
        "slack auth.test failed; will retry on first event",
      );
    }
    this.#dedupe = new SlackEventDedupe(redis, keys, limits.dedupeTtlSeconds);
    this.#receiver =
      this.#transport === "socket"
        ? new SlackSocketReceiver({
            appToken: slack.appToken as string,
            boltLogger: bLogger,
            logger: log,
            clientOptions,
            ...(this.#options.ackDeadlineMs ? { ackDeadlineMs: this.#options.ackDeadlineMs } : {}),
          })
        : new SlackHttpReceiver({
            app: context.routes,
            signingSecret: slack.signingSecret as string,
            logger: log,
            ...(this.#options.ackDeadlineMs ? { ackDeadlineMs: this.#options.ackDeadlineMs } : {}),
          });
    const bolt = new App({
      token: slack.botToken,
      receiver: this.#receiver,
      logger: bLogger,
      clientOptions,
      ...(this.#botUserId && botId ? { botUserId: this.#botUserId, botId } : {}),
      // Bolt's default calls auth.test in its constructor and leaves the promise unhandled: a wrong token or
      // an unreachable Slack would then kill the process. Our own auth.test above already ran; Bolt asks
      // again per event (where errors are handled) only when that one failed.
      tokenVerificationEnabled: false,
    });
    this.#bolt = bolt;

    this.#feedback = context.feedback;
    // One client (one request queue) for every Web API call, so a 429 pauses them all.
    const handoff = this.#handoffService(context, bolt.client);
    this.#handoff = handoff;
    this.#delivery = new SlackDelivery({
      client: bolt.client,
      conversations: context.conversations,
      outbox: new SlackOutbox({
        redis,
        keys,
        ...(this.#options.outboxLeaseMs ? { leaseMs: this.#options.outboxLeaseMs } : {}),
      }),
      streaming: this.#streaming,
      controls: () => this.#controls(),
      logger: log,
      followTimeoutMs: limits.answerTimeoutMs + 60_000,
      ...(this.#options.sweepIntervalMs ? { sweepIntervalMs: this.#options.sweepIntervalMs } : {}),
      ...(this.#options.appendIntervalMs !== undefined
        ? { appendIntervalMs: this.#options.appendIntervalMs }
        : {}),
      ...(this.#options.updateIntervalMs !== undefined
        ? { updateIntervalMs: this.#options.updateIntervalMs }
        : {}),
    });

    bolt.event("app_mention", async ({ event, body, context: c }) => {
      await this.#onMessage(event as SlackMessageEvent, body, c.botUserId);
    });
    bolt.event("message", async ({ event, body, context: c }) => {
      await this.#onMessage(event as SlackMessageEvent, body, c.botUserId);
    });
    registerInteractions(bolt, { feedback: this.#feedback, handoff, logger: log });
    bolt.use(async ({ body, next }) => {
      const type = (body as { event?: { type?: string } }).event?.type ?? (body as { type?: string }).type;
      if (type !== "app_mention" && type !== "message" && type !== "block_actions") {
        log.debug({ type }, "slack event not handled; acknowledged");
      }
      await next();
    });
    bolt.error(async (error) => {
      // Rethrown so that the receiver answers 500 and Slack delivers again (dedupe keys were released).
      throw error;
    });
    log.info(
      { transport: this.#transport, botUserId: this.#botUserId, ...this.#controls() },
      "slack channel ready",
    );
  }

  async start(): Promise<void> {
    await this.#bolt?.start();
    this.#delivery?.start();
  }

  async stop(): Promise<void> {
    await this.#bolt?.stop().catch(() => undefined);
    await this.#delivery?.stop(this.#ctx?.limits.shutdownGraceMs ?? 0);
  }

  readiness(): Record<string, unknown> {
    return {
      transport: this.#transport,
      streaming: this.#streaming.enabled,
      answering: this.#delivery?.inflight ?? 0,
    };
  }

  /** Decided per answer: other channels may register handoff destinations after this one started. */
  #controls(): AnswerControls {
    return { feedback: this.#feedback !== undefined, handoff: (this.#handoff?.destinations.length ?? 0) > 0 };
  }

  /** The shared handoff service, with the support channel registered when SLACK_HANDOFF_CHANNEL is set. */
  #handoffService(context: AdapterContext, client: webApi.WebClient): HandoffService | undefined {
    const channel = this.#slack.handoffChannel;
    const service = context.handoff;
    if (channel) service?.register(new SlackHandoffDestination(client, channel));
    return service;
  }

  async #onMessage(event: SlackMessageEvent, body: Record<string, unknown>, botUserId: string | undefined) {
    const ctx = this.#ctx;
    const log = this.#log;
    const bolt = this.#bolt;
    const delivery = this.#delivery;
    if (!ctx || !log || !bolt || !this.#dedupe || !delivery) return;
    const teamId = typeof body.team_id === "string" ? body.team_id : undefined;
    const selection = selectMessage(event, teamId, botUserId ?? this.#botUserId);
    if (!selection.handle) {
      log.debug({ reason: selection.reason }, "slack message ignored");
      return;
    }
    const eventId = typeof body.event_id === "string" ? body.event_id : undefined;
    if (eventId && !(await this.#dedupe.claim(eventId))) {
      log.info({ eventId }, "slack event already handled; dropped");
      return;
    }
    const inbound = toInboundMessage(selection.reply, selection.text);
    let submission: Awaited<ReturnType<AdapterContext["conversations"]["submit"]>>;
    try {
      submission = await ctx.conversations.submit(inbound);
    } catch (error) {
      const coded = asCodedError(error);
      if (coded.status >= 400 && coded.status < 500) {
        // The person's message was refused (empty, too long, rate-limited): tell them; a retry would not help.
        log.info({ code: coded.code }, "slack message refused");
        if (eventId) await this.#dedupe.done(eventId);
        delivery.track(this.#notice(bolt.client, selection.reply, coded.message));
        return;
      }
      if (eventId) await this.#dedupe.release(eventId);
      throw error;
    }
    if (eventId) await this.#dedupe.done(eventId);
    if (submission.duplicate) {
      log.info({ messageId: submission.messageId }, "slack message already accepted; not answered twice");
      return;
    }
    // Handed off to a person: the message went to the handoff's follow-up log; the bot stays quiet.
    if (submission.handedOff) return;
    await delivery.accept(submission.messageId, selection.reply, inbound.conversationKey);
  }

  async #notice(client: webApi.WebClient, reply: SlackReplyTarget, text: string): Promise<void> {
    await client.chat
      .postMessage({ channel: reply.channel, thread_ts: reply.threadTs, text })
      .then(() => undefined)
      .catch((error: unknown) => this.#log?.warn({ err: slackErrorCode(error) }, "slack notice not posted"));
  }
}
