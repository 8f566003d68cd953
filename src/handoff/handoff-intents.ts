/**
 * The phrases that hand a conversation to a person, or give it back to the bot, when typed as a message
 * in any channel. Deliberately narrow: a short message that is only a request for a person. A question
 * that merely mentions an agent ("how do I add an agent to my account?") must still be answered.
 */
const REQUEST_PATTERNS: RegExp[] = [
  /^(?:a\s+)?(?:real\s+|live\s+)?(?:human|agent|person|operator|representative|someone)(?:\s+please)?$/,
  /^(?:please\s+)?(?:can|could|may)\s+i\s+(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s+|the\s+)?(?:real\s+|live\s+)?(?:human|agent|person|operator|representative|someone|support)(?:\s+please)?$/,
  /^(?:please\s+)?(?:i(?:\s+want|\s+need|\s+would\s+like|'d\s+like)\s+to\s+)?(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s+|the\s+)?(?:real\s+|live\s+)?(?:human|agent|person|operator|representative|someone|support)(?:\s+please)?$/,
  /^(?:please\s+)?(?:connect|transfer)\s+me\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+)?(?:real\s+|live\s+)?(?:human|agent|person|operator|representative|support)(?:\s+please)?$/,
];

const RELEASE_PATTERNS: RegExp[] = [/^(?:back|return)\s+to\s+(?:the\s+)?bot(?:\s+please)?$/];

/** Lower case, apostrophes kept, other punctuation and repeated spaces dropped ("Human?!" -> "human"). */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’]/g, "'")
    .replace(/[^\p{L}\p{N}'\s]/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** True when the whole message asks for a person ("talk to a person", "human", "agent please"). */
export function asksForPerson(text: string): boolean {
  const t = normalise(text);
  return t.length <= 80 && REQUEST_PATTERNS.some((p) => p.test(t));
}

/** True when the whole message asks to return to the bot ("back to bot", "return to the bot"). */
export function asksForBot(text: string): boolean {
  const t = normalise(text);
  return t.length <= 40 && RELEASE_PATTERNS.some((p) => p.test(t));
}
