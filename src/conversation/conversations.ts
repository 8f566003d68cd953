import type { Citation } from "../knowledge/citation.ts";
import type { ConversationRef, InboundMessage } from "./inbound-message.ts";
import type { Turn } from "./turn.ts";

/**
 * How an answer was produced; channels may label excerpts or "don't know" answers differently.
 * "handoff": the fixed "a person will take over" (or "back to the bot") message; "human": a support
 * person's reply relayed into the conversation.
 */
export type AnswerKind = "answer" | "excerpt" | "no_answer" | "no_model" | "handoff" | "human";

export interface FinalAnswer {
  messageId: string;
  text: string;
  citations: Citation[];
  kind: AnswerKind;
}

export interface ReplyFailure {
  messageId: string;
  code: string;
  message: string;
}

/**
 * Receives one answer as it is made. Calls arrive in order and never overlap: `onStart` at most
 * once, `onChunk` zero or more times, then exactly one of `onFinal` or `onError`.
 */
export interface ReplySink {
  /** A worker took the message (show "typing"/a status). */
  onStart?(): Promise<void>;
  /** The next piece of streamed text. */
  onChunk(text: string): Promise<void>;
  /** The whole answer: authoritative, it replaces whatever was streamed. */
  onFinal(answer: FinalAnswer): Promise<void>;
  onError(failure: ReplyFailure): Promise<void>;
}

export interface Submission {
  /** Id of the inference job and of the answer; derived from the platform message id. */
  messageId: string;
  /** True when this platform message was already accepted earlier (a retry or double delivery). */
  duplicate: boolean;
  /**
   * True when the conversation is handed off to a person: nothing was enqueued and no answer will
   * follow, so the channel must not follow one (the message went to the handoff's follow-up log).
   */
  handedOff?: boolean;
  /** When the message was accepted (ms since epoch); absent for a duplicate or a hand-off. */
  acceptedAt?: number;
}

/** What a follower may already know of a message (from the conversation log, or its own submit). */
export interface KnownMessage {
  acceptedAt: number;
  channel: string;
}

/** One entry of a conversation's log: a message accepted in it, in answer order. */
export interface LoggedMessage {
  messageId: string;
  /** The log position (what a web chat event id resumes from). */
  logId: string;
  known?: KnownMessage;
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** Resume after this reply-stream entry id (SSE `Last-Event-ID`). */
  after?: string;
  /** Called with each reply-stream entry id once the sink has handled it. */
  onEntry?: (entryId: string) => void;
  /** What the caller knows of the message already: saves looking it up (not when resuming). */
  known?: KnownMessage;
}

/** The conversation layer as channel adapters see it. */
export interface Conversations {
  /** Accepts a message: validates, dedupes, enqueues. Throws a CodedError (busy, rate-limited...). */
  submit(message: InboundMessage): Promise<Submission>;
  /** Streams one answer into a sink; resolves after onFinal/onError. */
  follow(messageId: string, sink: ReplySink, options?: FollowOptions): Promise<void>;
  /** The turns kept in context, oldest first. */
  turns(ref: ConversationRef): Promise<Turn[]>;
  /** Stops an answer in progress or not yet started; the sink gets a `cancelled` error. */
  cancel(messageId: string): Promise<void>;
  /** The conversation a message belongs to (its key), or undefined when the message is unknown. */
  conversationOf(messageId: string): Promise<string | undefined>;
  /**
   * Calls `onMessage` for each message accepted in a conversation after log position `after` ("0": from
   * the oldest kept), in answer order, now and as new ones arrive, until the returned function is called.
   */
  watch(ref: ConversationRef, after: string, onMessage: (message: LoggedMessage) => void): () => void;
}
