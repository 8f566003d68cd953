import { App, type Receiver, webApi } from "@slack/bolt";
import type { Config } from "../../src/config.ts";
import type { FeedbackService } from "../../src/conversation/feedback.ts";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";
import { asCodedError, ConfigError } from "../../src/errors.ts";
import type { HandoffService } from "../../src/handoff/handoff-service.ts";
import type { Logger } from "../../src/logger.ts";
import type { AdapterContext, ChannelAdapter } from "../types.ts";
import { boltLogger } from "./bolt-logger.ts";
import { SlackAnswers } from "./slack-answers.ts";
import { type AnswerControls, escapeMrkdwn } from "./slack-blocks.ts";
import { slackErrorCode } from "./slack-delivery-errors.ts";
import { SlackEventDedupe } from "./slack-event-dedupe.ts";
import { SlackHandoffDestination } from "./slack-handoff-destination.ts";
import { createSlackHttpReceiver } from "./slack-http-receiver.ts";
import { registerInteractions } from "./slack-interactions.ts";
import { type SlackMessageEvent, selectMessage, toInboundMessage } from "./slack-message.ts";
import { SlackPosts } from "./slack-posts.ts";
import type { StreamingSupport } from "./slack-reply-sink.ts";
import { SlackSocketReceiver } from "./slack-socket-receiver.ts";

export interface SlackAdapterOptions {
  /** See SlackReplySink. @defaultValue 250 */
  appendIntervalMs?: number;
  /** See SlackReplySink. @defaultValue 1000 */
  updateIntervalMs?: number;
  /** Socket Mode: longest time an envelope's ack is held while the message is accepted. @defaultValue 2500 */
  ackDeadlineMs?: number;
  /** Retries of a failed Web API call (429s included) inside one delivery attempt. @defaultValue 5 */
  apiRetries?: number;
  /** Per-request Web API timeout in milliseconds (then retried). @defaultValue 20000 */
  apiTimeoutMs?: number;
  /** Answers one gateway streams at once. @defaultValue 200 */
  answerConcurrency?: number;
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
  readonly deliveryQueues = ["slack-answers", "slack-posts"] as const;
  readonly #streaming: StreamingSupport = { enabled: true };
  #answers: SlackAnswers | undefined;
  #posts: SlackPosts | undefined;
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
    const { logger, redis, keys, limits, queues } = context;
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
        : createSlackHttpReceiver({
            routes: context.routes,
            signingSecret: slack.signingSecret as string,
            boltLogger: bLogger,
            logger: log,
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
    const posts = new SlackPosts(queues, bolt.client);
    this.#posts = posts;
    const handoff = context.handoff;
    if (slack.handoffChannel) handoff?.register(new SlackHandoffDestination(posts, slack.handoffChannel));
    this.#handoff = handoff;
    this.#answers = new SlackAnswers({
      queues,
      client: bolt.client,
      conversations: context.conversations,
      streaming: this.#streaming,
      controls: () => this.#controls(),
      logger: log,
      followTimeoutMs: limits.answerTimeoutMs + 60_000,
      keepDeliveredSeconds: limits.dedupeTtlSeconds,
      ...(this.#options.answerConcurrency ? { concurrency: this.#options.answerConcurrency } : {}),
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
    registerInteractions(bolt, { feedback: this.#feedback, handoff, posts, logger: log });
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
    // Over HTTP the receiver is a route on the gateway's server: there is nothing of Bolt's to start.
    if (this.#transport === "socket") await this.#bolt?.start();
    this.#posts?.queue.start();
    this.#answers?.queue.start();
  }

  async stop(): Promise<void> {
    if (this.#transport === "socket") await this.#bolt?.stop().catch(() => undefined);
    const grace = this.#ctx?.limits.shutdownGraceMs ?? 0;
    await Promise.all([this.#answers?.queue.close(grace), this.#posts?.queue.close(grace)]);
  }

  readiness(): Record<string, unknown> {
    return {
      transport: this.#transport,
      streaming: this.#streaming.enabled,
      // As of the last /metrics scrape.
      answers: this.#answers?.queue.counts,
      posts: this.#posts?.queue.counts,
    };
  }

  /** A person's reply (admin API) into the user's thread: the conversation key is `<channel>:<thread ts>`. */
  async replyAsPerson(ref: ConversationRef, text: string): Promise<void> {
    const posts = this.#posts;
    if (!posts) throw new Error("The Slack channel is not initialised.");
    const colon = ref.conversationKey.indexOf(":");
    const channel = colon < 0 ? ref.conversationKey : ref.conversationKey.slice(0, colon);
    const threadTs = colon < 0 ? undefined : ref.conversationKey.slice(colon + 1);
    await posts.post({ channel, ...(threadTs ? { threadTs } : {}), text: escapeMrkdwn(text) });
  }

  /** Decided per answer: other channels may register handoff destinations after this one started. */
  #controls(): AnswerControls {
    return { feedback: this.#feedback !== undefined, handoff: (this.#handoff?.destinations.length ?? 0) > 0 };
  }

  /**
   * A person's reply in a thread without a mention (seen with the `message.channels` subscription) is not
   * for the bot, but in a handed-off thread it means support has taken the conversation (as when an
   * agent mentions the bot there): the hand-off is marked taken by a person.
   */
  async #noteThreadReply(event: SlackMessageEvent, teamId: string | undefined): Promise<void> {
    const { channel, user, ts, thread_ts: threadTs } = event;
    const human = event.bot_id === undefined && event.subtype === undefined && user !== this.#botUserId;
    if (!this.#handoff || !human || !channel || !user || !teamId || !threadTs || threadTs === ts) return;
    const ref = { channel: "slack" as const, tenant: teamId, conversationKey: `${channel}:${threadTs}` };
    await this.#handoff.personReplied(ref, user);
  }

  async #onMessage(event: SlackMessageEvent, body: Record<string, unknown>, botUserId: string | undefined) {
    const ctx = this.#ctx;
    const log = this.#log;
    const answers = this.#answers;
    const posts = this.#posts;
    if (!ctx || !log || !this.#dedupe || !answers || !posts) return;
    const teamId = typeof body.team_id === "string" ? body.team_id : undefined;
    const selection = selectMessage(event, teamId, botUserId ?? this.#botUserId);
    if (!selection.handle) {
      log.debug({ reason: selection.reason }, "slack message ignored");
      await this.#noteThreadReply(event, teamId);
      return;
    }
    const eventId = typeof body.event_id === "string" ? body.event_id : undefined;
    if (eventId && !(await this.#dedupe.claim(eventId))) {
      log.info({ eventId }, "slack event already handled; dropped");
      return;
    }
    const reply = selection.reply;
    const inbound = toInboundMessage(reply, selection.text);
    try {
      const submission = await ctx.conversations.submit(inbound);
      // Handed off to a person: the message went to the handoff's follow-up log; the bot stays quiet.
      if (!submission.handedOff) {
        // Stored before Slack gets its 200; for a message accepted before (a retry after a crash between
        // accepting and storing), the job id makes this a no-op when the answer is already owed.
        await answers.accept(submission.messageId, reply, inbound.conversationKey);
      }
      if (submission.duplicate)
        log.info({ messageId: submission.messageId }, "slack message already accepted");
    } catch (error) {
      const coded = asCodedError(error);
      if (coded.status >= 400 && coded.status < 500) {
        // The person's message was refused (empty, too long, rate-limited): tell them; a retry would not help.
        log.info({ code: coded.code }, "slack message refused");
        if (eventId) await this.#dedupe.done(eventId);
        await posts.post({
          channel: reply.channel,
          threadTs: reply.threadTs,
          text: escapeMrkdwn(coded.message),
          about: { channel: "slack", userId: reply.userId },
        });
        return;
      }
      if (eventId) await this.#dedupe.release(eventId);
      throw error;
    }
    if (eventId) await this.#dedupe.done(eventId);
  }
}
