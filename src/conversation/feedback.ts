import { ErrorCode, GatewayError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ConversationRef } from "./inbound-message.ts";
import type { Turn } from "./turn.ts";

/** A vote on one answer, as stored with its turn. */
export type TurnFeedback = NonNullable<Turn["feedback"]>;
export type FeedbackVote = TurnFeedback["vote"];

/** Longest free-text reason kept with a vote; longer input is refused, never silently cut. */
export const MAX_FEEDBACK_REASON_CHARS = 500;

/**
 * The one storage call feedback needs. The conversation layer's ContextStore provides it; it returns
 * false (or throws a not-found error) when the turn is no longer kept.
 */
export interface FeedbackStore {
  setFeedback(ref: ConversationRef, turnId: string, feedback: TurnFeedback): Promise<unknown>;
}

export interface FeedbackInput {
  ref: ConversationRef;
  /** The answer's message id (the turn id). */
  turnId: string;
  vote: FeedbackVote;
  reason?: string;
  /** Who voted; logged as an id only. */
  userId: string;
}

export interface FeedbackServiceOptions {
  store: FeedbackStore;
  logger: Logger;
  /** Clock, for tests. @defaultValue Date.now */
  now?: () => number;
}

/**
 * Records thumbs up/down on answers, for every channel. A later vote on the same answer replaces the
 * earlier one (people change their minds; the store keeps one vote per turn).
 */
export class FeedbackService {
  readonly #store: FeedbackStore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #listeners: ((input: FeedbackInput, feedback: TurnFeedback) => Promise<void>)[] = [];

  /** Runs after every stored vote (analytics, gap recording); a failing listener is logged only. */
  onRecorded(listener: (input: FeedbackInput, feedback: TurnFeedback) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  constructor({ store, logger, now = Date.now }: FeedbackServiceOptions) {
    this.#store = store;
    this.#logger = logger.child({ component: "feedback" });
    this.#now = now;
  }

  /**
   * Stores the vote with its turn.
   * @throws GatewayError bad_request for an unknown vote or an over-long reason, not_found when the
   *   answer is no longer kept in the conversation's context.
   */
  async record(input: FeedbackInput): Promise<TurnFeedback> {
    if (input.vote !== "up" && input.vote !== "down") {
      throw new GatewayError(
        ErrorCode.BadRequest,
        `Unknown vote "${String(input.vote)}": use "up" or "down".`,
      );
    }
    if (input.turnId.length === 0) {
      throw new GatewayError(ErrorCode.BadRequest, "Feedback needs the id of the answer it is about.");
    }
    const reason = input.reason?.trim();
    if (reason !== undefined && reason.length > MAX_FEEDBACK_REASON_CHARS) {
      throw new GatewayError(
        ErrorCode.BadRequest,
        `The feedback reason is ${reason.length} characters; keep it under ${MAX_FEEDBACK_REASON_CHARS}.`,
      );
    }
    const feedback: TurnFeedback = { vote: input.vote, at: this.#now() };
    if (reason) feedback.reason = reason;
    const stored = await this.#store.setFeedback(input.ref, input.turnId, feedback);
    if (stored === false) {
      throw new GatewayError(
        ErrorCode.NotFound,
        "That answer is no longer kept in this conversation, so the vote could not be stored.",
      );
    }
    this.#logger.info(
      {
        channel: input.ref.channel,
        tenant: input.ref.tenant,
        turnId: input.turnId,
        vote: input.vote,
        user: input.userId,
      },
      "feedback recorded",
    );
    for (const listener of this.#listeners) {
      await listener(input, feedback).catch((error: unknown) =>
        this.#logger.warn({ err: (error as Error).message }, "feedback listener failed"),
      );
    }
    return feedback;
  }
}
