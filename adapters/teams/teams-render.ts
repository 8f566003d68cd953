import type { Activity, Attachment } from "botbuilder";
import type { FinalAnswer } from "../../src/conversation/conversations.ts";
import type { Citation } from "../../src/knowledge/citation.ts";

/** The value an Adaptive Card's "Talk to a person" button posts back (as `activity.value`). */
export interface HandoffAction {
  action: "handoff";
  messageId: string;
}

export function isHandoffAction(value: unknown): value is HandoffAction {
  const v = value as Partial<HandoffAction> | null;
  return typeof v === "object" && v !== null && v.action === "handoff" && typeof v.messageId === "string";
}

/**
 * Sources and the hand-off button as one Adaptive Card under the answer. Teams' citation entities
 * (schema.org Message/Claim) cannot be used from botbuilder: its connector serialiser keeps only
 * `type` of each entity, so the citations would arrive empty. Card content is sent as is.
 */
export function answerCard(
  messageId: string,
  citations: Citation[],
  handoff: boolean,
): Attachment | undefined {
  if (citations.length === 0 && !handoff) return undefined;
  const body: Record<string, unknown>[] = [];
  if (citations.length > 0) {
    body.push({ type: "TextBlock", text: "Sources", weight: "Bolder", size: "Small", wrap: true });
    for (const c of citations) {
      const title = c.url ? `[${escapeMarkdown(c.title)}](${c.url})` : escapeMarkdown(c.title);
      const where = c.heading ? ` · ${escapeMarkdown(c.heading)}` : "";
      body.push({
        type: "TextBlock",
        text: `[${c.n}] ${title}${where}`,
        size: "Small",
        wrap: true,
        spacing: "None",
      });
    }
  }
  const actions: Record<string, unknown>[] = [];
  if (handoff) {
    const data: HandoffAction = { action: "handoff", messageId };
    actions.push({ type: "Action.Submit", title: "Talk to a person", data });
  }
  return {
    contentType: "application/vnd.microsoft.card.adaptive",
    content: {
      type: "AdaptiveCard",
      $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
      version: "1.5",
      body,
      ...(actions.length > 0 ? { actions } : {}),
    },
  };
}

/** Card TextBlocks render markdown; titles from front matter must not inject links or emphasis. */
function escapeMarkdown(text: string): string {
  return text.replace(/([\\[\]()*_`#])/g, "\\$1");
}

/** Fields that tie an activity to a Teams stream; in both `entities` and `channelData`, as Teams reads either. */
export interface StreamFields {
  streamId?: string;
  streamType: "informative" | "streaming" | "final";
  streamSequence?: number;
}

/**
 * The connector's serialiser drops unknown fields from entities, so the stream fields are repeated in
 * channelData, where Teams finds them (the Teams AI library does the same).
 */
export function withStream(activity: Partial<Activity>, stream: StreamFields): Partial<Activity> {
  const fields = {
    streamType: stream.streamType,
    ...(stream.streamId === undefined ? {} : { streamId: stream.streamId }),
    ...(stream.streamSequence === undefined ? {} : { streamSequence: stream.streamSequence }),
  };
  return {
    ...activity,
    entities: [...(activity.entities ?? []), { type: "streaminfo", ...fields }],
    channelData: { ...(activity.channelData ?? {}), ...fields },
  };
}

export interface RenderOptions {
  /** Offer the "Talk to a person" button. */
  handoff: boolean;
  /** Turn on Teams' built-in thumbs up/down (answered with a message/submitAction invoke). */
  feedback: boolean;
}

/**
 * The final answer as a Teams message: markdown text whose "[n]" markers point at the card's numbered
 * sources, Teams' built-in thumbs up/down (feedbackLoopEnabled), and the card with the hand-off button.
 */
export function renderAnswer(answer: FinalAnswer, options: RenderOptions): Partial<Activity> {
  // Fixed handoff notices and a person's relayed words are not the bot's answers: nothing to vote on.
  const botAnswer = answer.kind !== "handoff" && answer.kind !== "human";
  const handoff = options.handoff && botAnswer;
  const feedback = options.feedback && botAnswer;
  const card = answerCard(answer.messageId, answer.citations, handoff);
  return {
    type: "message",
    // Teams refuses a message (and a stream's final message) without text.
    text: answer.text.trim() === "" ? "Sorry, I have no answer to that." : answer.text,
    textFormat: "markdown",
    ...(feedback ? { channelData: { feedbackLoopEnabled: true } } : {}),
    ...(card === undefined ? {} : { attachments: [card] }),
  };
}

/** A short message for an answer that failed (the failure's own text is written for users). */
export function renderFailure(message: string): Partial<Activity> {
  return { type: "message", text: `Sorry, I could not answer that. ${message}`, textFormat: "plain" };
}
