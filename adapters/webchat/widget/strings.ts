import { ApiError } from "./chat-client.ts";

/**
 * Every text the widget shows, in English. The bundle carries only this catalogue; other languages are
 * packs of the same keys (./i18n/) that the gateway serves as JSON and the widget loads when the page
 * asks for that language. `{s}` is replaced by a number of seconds.
 */
export const en = {
  title: "Support",
  open: "Open support chat",
  close: "Close chat",
  placeholder: "Type your question…",
  send: "Send",
  sources: "Sources",
  helpful: "Helpful",
  notHelpful: "Not helpful",
  thanks: "Thanks for the feedback.",
  human: "Talk to a person",
  humanAsked: "We have asked a person from our team to help you.",
  withPerson: "A person from our team has this conversation and will reply here.",
  typing: "The assistant is writing…",
  you: "You",
  bot: "Assistant",
  retry: "Retry",
  failed: "That did not go through. Please try again.",
  reconnecting: "Connection lost. Reconnecting…",
  greeting: "Hi! Ask a question and I will answer from our help articles.",
  offline: "You seem to be offline. Check your connection and try again.",
  busy: "We are answering many questions right now. Please try again in a moment.",
  busyIn: "We are answering many questions right now. Please try again in {s} s.",
  rateLimited: "You are sending messages quickly. Please wait and try again.",
  rateLimitedIn: "You are sending messages quickly. Please wait and try again in {s} s.",
  tooLong: "That message is too long. Please shorten it.",
  empty: "Please type a question first.",
  refused: "This chat is not available on this page.",
  timeout: "The answer took too long. Please try again.",
  handedOff: "A person is handling this conversation now.",
  unavailable: "The assistant is not available right now. Please try again later.",
  failure: "Something went wrong on our side. Please try again.",
};

/** The widget's texts in one language: the English catalogue's keys. */
export type Strings = typeof en;

/** Plain words for a failure, by error code, in the widget's language. */
export function describeError(error: unknown, t: Strings): string {
  const code = error instanceof ApiError ? error.code : (error as { code?: string } | undefined)?.code;
  const after = error instanceof ApiError ? error.retryAfterSeconds : undefined;
  const withSeconds = (text: string) => text.replace("{s}", String(after));
  switch (code) {
    case "offline":
      return t.offline;
    case "busy":
      return after ? withSeconds(t.busyIn) : t.busy;
    case "rate_limited":
      return after ? withSeconds(t.rateLimitedIn) : t.rateLimited;
    case "text_too_long":
      return t.tooLong;
    case "empty_text":
      return t.empty;
    case "origin_refused":
    case "forbidden":
    case "unauthorized":
      return t.refused;
    case "timeout":
      return t.timeout;
    case "handed_off":
      return t.handedOff;
    case "unavailable":
      return t.unavailable;
    default:
      return t.failure;
  }
}

/**
 * A pack's texts over the English ones: a key the pack lacks (an older pack, a newer widget) or that is
 * not a string stays English. The texts only ever become text nodes and attributes, never markup.
 */
export function withPack(pack: Record<string, unknown>): Strings {
  const t = { ...en };
  for (const key of Object.keys(en) as (keyof Strings)[]) {
    const value = pack[key];
    if (typeof value === "string" && value !== "") t[key] = value;
  }
  return t;
}
