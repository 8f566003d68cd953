import { ApiError } from "./chat-client.ts";

/** Every text the widget shows, in one place (the host page may override them via data-* later). */
export const strings = {
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
  reconnecting: "Connection lost. Reconnecting…",
  greeting: "Hi! Ask a question and I will answer from our help articles.",
};

/** Plain words for a failure, by error code. */
export function describeError(error: unknown): string {
  const code = error instanceof ApiError ? error.code : (error as { code?: string } | undefined)?.code;
  const after =
    error instanceof ApiError && error.retryAfterSeconds ? ` in ${error.retryAfterSeconds} s` : "";
  switch (code) {
    case "offline":
      return "You seem to be offline. Check your connection and try again.";
    case "busy":
      return `We are answering many questions right now. Please try again${after || " in a moment"}.`;
    case "rate_limited":
      return `You are sending messages quickly. Please wait and try again${after}.`;
    case "text_too_long":
      return "That message is too long. Please shorten it.";
    case "empty_text":
      return "Please type a question first.";
    case "origin_refused":
    case "forbidden":
    case "unauthorized":
      return "This chat is not available on this page.";
    case "timeout":
      return "The answer took too long. Please try again.";
    case "handed_off":
      return "A person is handling this conversation now.";
    default:
      return "Something went wrong on our side. Please try again.";
  }
}
