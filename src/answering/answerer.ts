import type { AnswerKind } from "../conversation/conversations.ts";
import { buildPrompt, citationsUsed, NO_ANSWER_TEXT } from "../conversation/prompt-builder.ts";
import type { Turn } from "../conversation/turn.ts";
import { ErrorCode, isCodedError } from "../errors.ts";
import type { Engine, GenerateResult } from "../inference/engine.ts";
import type { Citation, Snippet } from "../knowledge/citation.ts";
import { composeExcerptAnswer } from "../knowledge/excerpt-answer.ts";
import type { Retrieval, Retriever } from "../knowledge/retriever.ts";
import { type AnswerJob, seedFor } from "./answer-job.ts";

export const NO_MODEL_TEXT =
  "No language model is configured on this service yet, and no help article matched your question. " +
  "Would you like me to connect you with a person?";

export interface AnswererOptions {
  /** The knowledge folder (absent: the model answers without sources). */
  retriever?: Retriever;
  /** Tokens of knowledge snippets per prompt. */
  tokenBudget: number;
  /** Without an engine the answer is an excerpt of the best snippets (retrieval-only mode). */
  engine?: Engine;
  maxAnswerTokens: number;
  temperature: number;
}

export interface AnswerInput {
  job: AnswerJob;
  /** The conversation's kept turns (read only when a model needs them). */
  history: () => Promise<Turn[]>;
  /** Streamed text, as it is generated. */
  onText: (chunk: string) => void;
  signal: AbortSignal;
}

export interface ComposedAnswer {
  text: string;
  kind: AnswerKind;
  citations: Citation[];
  /** Tokens generated (0 without a model). */
  tokens: number;
  /** What retrieval found (for analytics). */
  snippets: Snippet[];
  /** True when the knowledge folder had content: then no snippet means "I don't know". */
  knowledgeReady: boolean;
  /** The knowledge's answerability decision (absent for jobs whose gateway retrieved). */
  decision?: Pick<Retrieval, "answerable" | "confidence" | "reason">;
  /** Set when the signal stopped the generation (timeout, cancel, shutdown). */
  aborted?: unknown;
  promptTokens?: number;
  cachedPromptTokens?: number;
}

/**
 * What to say to one message: retrieve, then say "I don't know" when the folder has nothing on it, quote
 * the best sources without a model, or generate from the sources and the conversation's last turns.
 * Retrieval runs here, in the worker, so that accepting a message never waits on it.
 */
export class Answerer {
  readonly #o: AnswererOptions;

  constructor(options: AnswererOptions) {
    this.#o = options;
  }

  get hasModel(): boolean {
    return this.#o.engine !== undefined;
  }

  async compose({ job, history, onText, signal }: AnswerInput): Promise<ComposedAnswer> {
    const o = this.#o;
    // Jobs of version 1 carried the snippets the gateway found. Others search the knowledge of the
    // message's tenant (a site, workspace or tenant may have its own folder), in the user's language.
    const retrieval =
      job.v === 1
        ? undefined
        : await o.retriever?.retrieve(job.question, {
            tokenBudget: o.tokenBudget,
            tenant: job.conversation.tenant,
            channel: job.conversation.channel,
            ...(job.lang ? { lang: job.lang } : {}),
          });
    const snippets = job.v === 1 ? job.snippets : (retrieval?.snippets ?? []);
    const knowledgeReady =
      job.v === 1 ? job.knowledgeReady : (retrieval?.knowledgeReady ?? o.retriever?.ready ?? false);
    const decision = retrieval && {
      answerable: retrieval.answerable,
      confidence: retrieval.confidence,
      reason: retrieval.reason,
    };
    const base = { snippets, knowledgeReady, tokens: 0, ...(decision ? { decision } : {}) };
    // Without a model, the calibrated decision says whether the folder answers the question, not
    // merely whether something ranked first: a "no" is the honest "I don't know" and the offer of a
    // person. (With a model, the sources go to it and it decides; that is the decision step's part.)
    const refused = snippets.length === 0 || (!o.engine && decision?.answerable === false);
    if (knowledgeReady && refused) {
      return { ...base, text: NO_ANSWER_TEXT, kind: "no_answer", citations: [] };
    }
    if (!o.engine) {
      if (snippets.length === 0) return { ...base, text: NO_MODEL_TEXT, kind: "no_model", citations: [] };
      const text = composeExcerptAnswer(snippets);
      // The excerpt quotes only its best sources and marks them [n]: cite those, not every snippet.
      return { ...base, text, kind: "excerpt", citations: citationsUsed(text, snippets) };
    }
    const result = await this.#generate(job, snippets, await history(), onText, signal);
    const text = result.text.trim();
    return {
      ...base,
      text,
      kind: "answer",
      citations: citationsUsed(text, snippets),
      tokens: result.tokens,
      ...(signal.aborted ? { aborted: signal.reason } : {}),
      ...(result.promptTokens !== undefined ? { promptTokens: result.promptTokens } : {}),
      ...(result.cachedPromptTokens !== undefined ? { cachedPromptTokens: result.cachedPromptTokens } : {}),
    };
  }

  /**
   * Generates from the sources and the last turns; when they do not fit the model's context, the oldest
   * turns go first, then the weakest sources, rather than failing the answer.
   */
  async #generate(
    job: AnswerJob,
    snippets: Snippet[],
    history: Turn[],
    onText: (chunk: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    const o = this.#o;
    const engine = o.engine as Engine;
    let turns = history;
    let sources = snippets;
    for (;;) {
      const prompt = buildPrompt({ question: job.question, snippets: sources, history: turns });
      try {
        return await engine.generate(
          {
            ...prompt,
            maxTokens: o.maxAnswerTokens,
            temperature: o.temperature,
            seed: seedFor(job.messageId),
          },
          { signal, onText },
        );
      } catch (error) {
        if (!isCodedError(error) || error.code !== ErrorCode.ContextOverflow) throw error;
        if (turns.length > 0) turns = turns.slice(1);
        else if (sources.length > 1) sources = sources.slice(0, -1);
        else throw error;
      }
    }
  }
}
