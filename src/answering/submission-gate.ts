import type { InboundMessage } from "../conversation/inbound-message.ts";

/** What a SubmissionGate decides for a new message, before any answer job exists. */
export type GateDecision =
  /** Answer normally. */
  | { action: "answer" }
  /** The conversation is with a person: enqueue nothing, tell the channel not to follow an answer. */
  | { action: "silent" }
  /** Reply with this fixed text instead of an answer (handoff requested, conversation released). */
  | { action: "reply"; text: string };

/**
 * The support loop's hook into accepting messages: hand-off state and intents before a message is
 * answered, and analytics once it is accepted (its outcome is recorded by the worker that answers it).
 */
export interface SubmissionGate {
  /**
   * Reads what `decide` needs, without side effects, so that it can share a round trip with the
   * duplicate check; `decide` then takes its result.
   */
  prepare?(message: InboundMessage): Promise<unknown>;
  decide(message: InboundMessage, text: string, prepared?: unknown): Promise<GateDecision>;
  accepted(message: InboundMessage, messageId: string): Promise<void>;
}
