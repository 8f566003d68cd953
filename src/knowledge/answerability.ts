import type { Ranking } from "./knowledge-index.ts";

/**
 * Does the folder answer the question? A calibrated estimate from how the question's words meet the
 * best chunk, not only which chunk ranks first:
 *
 * - coverage: the share of the question's information (IDF-weighted terms) the best chunk holds;
 * - rarest: whether the question's most distinctive word is in the best chunk (a question about
 *   "pets" that matches an article only on "covid" is about something the folder lacks);
 * - unknown: the share of the question's information in words the folder never uses;
 * - strength: the best chunk's BM25 score against what a perfect match of every term would give;
 * - margin: how far the best file stands above the next file;
 * - agreement: whether word or sentence vectors rank the same chunk first (when they are on).
 *
 * A logistic model turns these into a probability. Its weights were fitted once on development sets
 * built as issue 17 says (CovidFAQ and the sample folders with a fifth of their files removed, their
 * questions kept as "should abstain", plus off-topic questions in every analyzed language), with the
 * classes weighed equally; `bench/answerability-fit.ts` refits them and prints the held-out figures.
 * The features are ratios, so the same weights serve every language and folder size.
 */
export interface AnswerabilityFeatures {
  coverage: number;
  rarest: number;
  unknown: number;
  strength: number;
  margin: number;
  /** Distinct search terms in the question. */
  terms: number;
  /** 1 when dense and lexical rankings agree on the best chunk, 0 when not, 0.5 without vectors. */
  agreement: number;
}

export interface Answerability {
  answerable: boolean;
  /** Estimated probability that the folder answers the question, 0..1. */
  confidence: number;
  /** Why, in a word: what `kb search` prints and what gaps are grouped by. */
  reason: AnswerabilityReason;
  features: AnswerabilityFeatures;
}

/**
 * - `confident`: answered;
 * - `uncertain`: answered, but close to the line (a gap for curators all the same);
 * - `weak_match`: abstained: the best chunk matches too little of the question;
 * - `no_match`: abstained: nothing in the folder shares a word with the question;
 * - `empty`: abstained: the folder (or this tenant's part of it) has no knowledge.
 */
export type AnswerabilityReason = "confident" | "uncertain" | "weak_match" | "no_match" | "empty";

/** BM25 saturation of a perfect match, as in LexicalIndex's defaults (k + 1 + d). */
const perfectTermScore = 1.2 + 1 + 0.5;
/** Confidence this far above the caution setting still counts as uncertain (a gap). */
export const UNCERTAIN_BAND = 0.15;

/** Fitted by bench/answerability-fit.ts (see the file comment); order as in `vector()`. */
const WEIGHTS = {
  bias: -4.2,
  coverage: 5.0,
  rarest: 1.5,
  unknown: -3.0,
  strength: 2.0,
  margin: 1.0,
  terms: 0.3,
  agreement: 0.5,
};

export function answerabilityFeatures(ranking: Ranking): AnswerabilityFeatures {
  const { query, hits } = ranking;
  const top = hits[0];
  const total = query.idf.reduce((s, x) => s + x, 0);
  const unknownInfo = query.idf.reduce((s, x, i) => s + ((query.df[i] ?? 0) === 0 ? x : 0), 0);
  let rarestIndex = -1;
  query.idf.forEach((x, i) => {
    if ((query.df[i] ?? 0) > 0 && (rarestIndex < 0 || x > (query.idf[rarestIndex] ?? 0))) rarestIndex = i;
  });
  const matched = top?.matched ?? 0;
  const lexicalTop = hits
    .filter((h) => h.lexical !== undefined)
    .sort((a, b) => (b.lexical ?? 0) - (a.lexical ?? 0));
  const best = lexicalTop[0];
  const other = lexicalTop.find((h) => h.chunk.path !== best?.chunk.path);
  const denseTop = hits
    .filter((h) => h.cosine !== undefined)
    .sort((a, b) => (b.cosine ?? 0) - (a.cosine ?? 0))[0];
  return {
    coverage: top?.coverage ?? 0,
    rarest: rarestIndex >= 0 && rarestIndex < 30 && matched & (1 << rarestIndex) ? 1 : 0,
    unknown: total > 0 ? unknownInfo / total : 1,
    strength: best && total > 0 ? Math.min(1, (best.lexical ?? 0) / (total * perfectTermScore)) : 0,
    margin: best && other ? Math.max(0, 1 - (other.lexical ?? 0) / (best.lexical ?? 1)) : best ? 1 : 0,
    terms: query.terms.length,
    agreement: denseTop && best ? (denseTop.chunk.path === best.chunk.path ? 1 : 0) : 0.5,
  };
}

/** The features in the model's order, transformed as the model wants them. */
export function featureVector(f: AnswerabilityFeatures): number[] {
  return [f.coverage, f.rarest, f.unknown, f.strength, f.margin, Math.log(1 + f.terms), f.agreement];
}

export type AnswerabilityWeights = typeof WEIGHTS;

export function confidenceOf(f: AnswerabilityFeatures, w: AnswerabilityWeights = WEIGHTS): number {
  const x = featureVector(f);
  const z =
    w.bias +
    w.coverage * (x[0] ?? 0) +
    w.rarest * (x[1] ?? 0) +
    w.unknown * (x[2] ?? 0) +
    w.strength * (x[3] ?? 0) +
    w.margin * (x[4] ?? 0) +
    w.terms * (x[5] ?? 0) +
    w.agreement * (x[6] ?? 0);
  return 1 / (1 + Math.exp(-z));
}

/**
 * Decides for one ranking. `caution` (RETRIEVAL_CAUTION, 0..1) is the confidence an answer needs:
 * higher abstains more often (fewer wrong answers, more questions handed to a person).
 */
export function decideAnswerability(ranking: Ranking, caution: number): Answerability {
  const features = answerabilityFeatures(ranking);
  if (ranking.query.size === 0) return { answerable: false, confidence: 0, reason: "empty", features };
  if (ranking.hits.length === 0 || features.coverage === 0) {
    return { answerable: false, confidence: 0, reason: "no_match", features };
  }
  const confidence = Math.round(confidenceOf(features) * 1000) / 1000;
  const answerable = confidence >= caution;
  const reason = !answerable
    ? "weak_match"
    : confidence < caution + UNCERTAIN_BAND
      ? "uncertain"
      : "confident";
  return { answerable, confidence, reason, features };
}
