import type { AnswerabilityReason } from "./answerability.ts";
import type { Snippet } from "./citation.ts";

export interface RetrieveOptions {
  /** The snippets returned fit in this many tokens together. */
  tokenBudget: number;
  /** The question's language when the channel knows it (BCP 47: `fr`, `pt-BR`); detected otherwise. */
  lang?: string;
  /**
   * Whose knowledge to search: the message's tenant (web-chat site, Slack workspace, Teams tenant).
   * A tenant mapped to its own folder is answered from that folder only; others from the default one.
   */
  tenant?: string;
  /** The message's channel, for tenant mappings that name one (`slack:T0123`). */
  channel?: string;
}

/** What one retrieval found, and whether it answers the question. */
export interface Retrieval {
  /** Best first, within the budget, numbered [1]..[k]; present even when not answerable (a model may weigh them). */
  snippets: Snippet[];
  /**
   * The calibrated decision: false means the folder does not answer this question (retrieval-only
   * mode replies `no_answer` and offers a person), whatever ranked first.
   */
  answerable: boolean;
  /** Estimated probability that the folder answers the question, 0..1. */
  confidence: number;
  /** `confident`, `uncertain` (answerable but near the line: a gap), `weak_match`, `no_match` or `empty`. */
  reason: AnswerabilityReason;
  /** The language the question was searched in. */
  lang: string;
  /** False when the tenant's folder holds no knowledge at all. */
  knowledgeReady: boolean;
}

/**
 * Finds knowledge for a question, after Teams AI's DataSource.renderData: it returns what fits the
 * prompt's budget, best first, with a decision whether it answers the question at all.
 */
export interface Retriever {
  retrieve(query: string, options: RetrieveOptions): Promise<Retrieval>;
  /** True once at least one knowledge file is indexed (in the default folder). */
  readonly ready: boolean;
}
