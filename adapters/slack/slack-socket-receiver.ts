import { type App, type Receiver, type ReceiverEvent, SocketModeReceiver, type webApi } from "@slack/bolt";
import type { Logger } from "../../src/logger.ts";

export interface SlackSocketReceiverOptions {
  appToken: string;
  /** Bolt-shaped logger for the Socket Mode client. */
  boltLogger: ConstructorParameters<typeof SocketModeReceiver>[0]["logger"];
  logger: Logger;
  /** Web API options for `apps.connections.open` (its base URL in tests). */
  clientOptions: webApi.WebClientOptions;
  /** Longest time an envelope's ack is held while the message is being accepted. @defaultValue 2500 */
  ackDeadlineMs?: number;
}

/**
 * Socket Mode with the same promise as the Events API path: an Events API envelope is acknowledged only
 * once the listeners have accepted the message (or after `ackDeadlineMs`, before Slack's 3 s), so a
 * gateway that dies in between leaves the envelope un-acked and Slack sends it again. Bolt acks events
 * before listeners run; this wraps the app that Bolt's SocketModeReceiver dispatches to and holds that
 * ack back. Interactive envelopes are acked when the listener calls `ack()`.
 */
export class SlackSocketReceiver implements Receiver {
  readonly #inner: SocketModeReceiver;
  readonly #logger: Logger;
  readonly #deadline: number;

  constructor({
    appToken,
    boltLogger,
    logger,
    clientOptions,
    ackDeadlineMs = 2500,
  }: SlackSocketReceiverOptions) {
    this.#inner = new SocketModeReceiver({
      appToken,
      ...(boltLogger ? { logger: boltLogger } : {}),
      installerOptions: { clientOptions },
    });
    this.#logger = logger.child({ component: "slack-socket" });
    this.#deadline = ackDeadlineMs;
  }

  init(app: App): void {
    // SocketModeReceiver only ever calls `app.processEvent(event)`; give it that one method.
    const dispatcher = { processEvent: (event: ReceiverEvent) => this.#process(app, event) };
    this.#inner.init(dispatcher as unknown as App);
  }

  start(): Promise<unknown> {
    return this.#inner.start();
  }

  stop(): Promise<unknown> {
    return this.#inner.stop();
  }

  async #process(app: App, event: ReceiverEvent): Promise<void> {
    if (event.body.type !== "event_callback") {
      await app.processEvent(event);
      return;
    }
    let acked = false;
    let response: unknown;
    const ack = async () => {
      if (acked) return;
      acked = true;
      await event.ack(response);
    };
    const timer = setTimeout(() => {
      this.#logger.warn({ ms: this.#deadline }, "slack envelope still processing; acknowledging");
      void ack();
    }, this.#deadline);
    try {
      await app.processEvent({
        ...event,
        ack: async (r?: unknown) => {
          response = r;
        },
      });
      await ack();
    } finally {
      // On failure the envelope stays un-acked (unless the deadline passed): Slack delivers it again.
      clearTimeout(timer);
    }
  }
}
