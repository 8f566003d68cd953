import type { types } from "@slack/bolt";

type KnownBlock = types.KnownBlock;

import { z } from "zod";
import type { Citation } from "../../src/knowledge/citation.ts";

/** Action ids of the buttons under each answer. */
export const ACTION_VOTE_UP = "sgw_vote_up";
export const ACTION_VOTE_DOWN = "sgw_vote_down";
export const ACTION_HANDOFF = "sgw_handoff";
/** "Return to bot" on a handoff post in the support channel; its value is the handoff id. */
export const ACTION_HANDOFF_RELEASE = "sgw_handoff_release";

/** What a button carries back (Slack returns `value` verbatim, at most 2,000 characters). */
const ActionValueSchema = z.object({ m: z.string().min(1).max(300), k: z.string().min(1).max(1000) });
export type ActionValue = { messageId: string; conversationKey: string };

export function encodeActionValue(value: ActionValue): string {
  return JSON.stringify({ m: value.messageId, k: value.conversationKey });
}

/** @returns undefined when the value is not one this channel wrote. */
export function decodeActionValue(raw: unknown): ActionValue | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const parsed = ActionValueSchema.safeParse(JSON.parse(raw));
    return parsed.success ? { messageId: parsed.data.m, conversationKey: parsed.data.k } : undefined;
  } catch {
    return undefined;
  }
}

export interface AnswerControls {
  feedback: boolean;
  handoff: boolean;
}

/** Slack's mrkdwn needs only these three escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** "[1] Title" as a link when the source has a public URL, else with its path in the knowledge folder. */
export function citationMrkdwn(citation: Citation): string {
  const label = escapeMrkdwn(`[${citation.n}] ${citation.title}`).replace(/\|/g, "¦");
  const url = linkTarget(citation.url);
  if (url) return `<${url}|${label}>`;
  return `${label} (${escapeMrkdwn(citation.path)})`;
}

/** A knowledge URL as a bare mrkdwn link, or undefined when it is not http(s) (javascript:, data:, ...). */
function linkTarget(url: string | undefined): string | undefined {
  return url && /^https?:\/\//i.test(url) ? url.replace(/[<>|\s]/g, "") : undefined;
}

/** Plain-text form of the sources, for notifications and the `text` fallback (mrkdwn, escaped). */
export function citationsText(citations: Citation[]): string {
  if (citations.length === 0) return "";
  const one = (c: Citation) => {
    const label = escapeMrkdwn(`[${c.n}] ${c.title}`);
    const url = linkTarget(c.url);
    return url ? `${label} <${url}>` : label;
  };
  return `\n\nSources: ${citations.map(one).join(" · ")}`;
}

/** The sources and the buttons that follow an answer (what `chat.stopStream` appends). */
export function trailerBlocks(
  citations: Citation[],
  value: ActionValue,
  controls: AnswerControls,
): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (citations.length > 0) {
    // A context block holds at most 10 elements.
    blocks.push({
      type: "context",
      elements: citations.slice(0, 10).map((c) => ({ type: "mrkdwn", text: citationMrkdwn(c) })),
    });
  }
  const encoded = encodeActionValue(value);
  const buttons: KnownBlock = { type: "actions", block_id: "sgw_answer_actions", elements: [] };
  if (controls.feedback) {
    buttons.elements.push(
      {
        type: "button",
        action_id: ACTION_VOTE_UP,
        text: { type: "plain_text", text: "👍", emoji: true },
        value: encoded,
      },
      {
        type: "button",
        action_id: ACTION_VOTE_DOWN,
        text: { type: "plain_text", text: "👎", emoji: true },
        value: encoded,
      },
    );
  }
  if (controls.handoff) {
    buttons.elements.push({
      type: "button",
      action_id: ACTION_HANDOFF,
      text: { type: "plain_text", text: "Talk to a person" },
      value: encoded,
    });
  }
  if (buttons.elements.length > 0) blocks.push(buttons);
  return blocks;
}

/** Longest text one markdown block takes. */
const MARKDOWN_BLOCK_LIMIT = 12_000;

/** A whole answer as blocks (the posted-message path): the text as markdown, then the trailer. */
export function answerBlocks(
  text: string,
  citations: Citation[],
  value: ActionValue,
  controls: AnswerControls,
): KnownBlock[] {
  const body = text.length > 0 ? text : "…";
  const blocks: KnownBlock[] = [];
  for (let i = 0; i < body.length && blocks.length < 5; i += MARKDOWN_BLOCK_LIMIT) {
    blocks.push({ type: "markdown", text: body.slice(i, i + MARKDOWN_BLOCK_LIMIT) });
  }
  return [...blocks, ...trailerBlocks(citations, value, controls)];
}
