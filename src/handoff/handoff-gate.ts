import type { GateDecision, SubmissionGate } from "../answering/submission-gate.ts";
import { conversationRefOf, type InboundMessage } from "../conversation/inbound-message.ts";
import { asCodedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { asksForBot, asksForPerson } from "./handoff-intents.ts";
import { type HandoffService, handoffIdOf } from "./handoff-service.ts";
import type { PeekedHandoff, RedisHandoffStates } from "./handoff-state.ts";

/** Told to a user who typed "back to bot" in a handed-off conversation. */
export const RELEASED_TEXT = "You're back with the bot. Ask me anything.";

/**
 * What the gate reports to analytics. A port, so that hand-off knows nothing of insights: the insights
 * recorder fits it and the composition root (src/app/support-loop.ts) passes it in.
 */
export interface GateInsights {
  /** Lists the conversation under its user (privacy erasure) without recording a question. */
  noteConversation(message: InboundMessage): Promise<void>;
  question(message: InboundMessage, messageId: string): Promise<void>;
}

export interface SupportGateOptions {
  states: RedisHandoffStates;
  insights: GateInsights;
  /** The shared handoff service (created after the conversation manager, hence a getter). */
  handoff: () => HandoffService | undefined;
  /** The "what happens next" text (admin settings can change it at run time). */
  handoffMessage: () => Promise<string>;
  /** Forwards a user's follow-up to destinations that want them (the webhook), optional. */
  forwardFollowUp?: (
    handoffId: string,
    followUp: { at: number; userId: string; text: string },
  ) => Promise<void>;
  logger: Logger;
}

/**
 * The support loop in front of the bot, for every channel: while a conversation is handed off the bot
 * stays silent (the user's messages go to the handoff's follow-up log; someone else writing in the
 * conversation, e.g. an agent in the Slack thread, marks it taken by a person); "back to bot" returns it;
 * a message that only asks for a person ("talk to a person", "human", "agent") hands it off.
 */
export class SupportGate implements SubmissionGate {
  readonly #o: SupportGateOptions;
  readonly #log: Logger;

  constructor(options: SupportGateOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "support-gate" });
  }

  async prepare(message: InboundMessage): Promise<{ open: PeekedHandoff | undefined }> {
    return { open: await this.#o.states.peek(conversationRefOf(message)) };
  }

  async decide(message: InboundMessage, text: string, prepared?: unknown): Promise<GateDecision> {
    const ref = conversationRefOf(message);
    const open =
      prepared === undefined ? await this.#o.states.peek(ref) : (prepared as { open?: PeekedHandoff }).open;
    if (open) {
      if (asksForBot(text)) {
        await this.#o.handoff()?.release(open.id, `${message.channel}:${message.userId}`);
        return { action: "reply", text: RELEASED_TEXT };
      }
      if (message.userId !== open.userId) {
        // Someone other than the asker wrote in the conversation: in Slack, a person from support replying
        // in the user's thread. The bot keeps quiet until released.
        if (open.status !== "human") await this.#o.states.markHuman(open.id);
        return { action: "silent" };
      }
      const followUp = { at: Date.now(), userId: message.userId, text };
      await this.#o.states.appendFollowUp(open.id, followUp);
      await this.#o.insights.noteConversation(message);
      await this.#o
        .forwardFollowUp?.(open.id, followUp)
        .catch((error: unknown) =>
          this.#log.warn({ err: (error as Error).message }, "follow-up not forwarded"),
        );
      return { action: "silent" };
    }
    if (!asksForPerson(text)) return { action: "answer" };
    const handoff = this.#o.handoff();
    if (!handoff || handoff.destinations.length === 0) return { action: "answer" };
    await this.#o.insights.noteConversation(message);
    try {
      const result = await handoff.request({ ref, userId: message.userId, question: text });
      this.#log.info(
        { handoff: handoffIdOf(ref), accepted: result.accepted },
        "handoff asked for in a message",
      );
      return { action: "reply", text: await this.#o.handoffMessage() };
    } catch (error) {
      // Nobody could be reached: say so instead of pretending (the coded message says what to do).
      return { action: "reply", text: asCodedError(error).message };
    }
  }

  accepted(message: InboundMessage, messageId: string): Promise<void> {
    return this.#o.insights.question(message, messageId);
  }
}
