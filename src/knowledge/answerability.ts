import type { Ranking } from "./knowledge-index.ts";
import { analyzerFor } from "./text-analyzer.ts";

/**
 * Does the folder answer the question? A calibrated estimate from how the question's words meet the
 * best chunk, not only which chunk ranks first:
 *
 * - coverage: the share of the question's information (IDF-weighted terms) the best chunk holds;
 * - rarest: whether the question's most distinctive word is in the best chunk (a question about
 *   "pets" that matches an article only on "covid" is about something the folder lacks);
 * - unknown: the share of the question's information in words the folder never uses;
 * - title: the share of the question's information in the best chunk's title, headings and tags
 *   (what the article is about, not what it mentions in passing);
 * - specific: coverage counting only the words that are specific in this folder (in at most a tenth
 *   of its chunks): in a folder all about one product, the product's name says nothing;
 * - concentration: the share of the ten best chunks' scores that the best file holds;
 * - margin: how much more of the question the best chunk holds than the best chunk of another file;
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
  title: number;
  specific: number;
  concentration: number;
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

/** A word in more than this share of the folder's chunks is background, not topic. */
const specificShare = 0.1;
/** Confidence this far above the caution setting still counts as uncertain (a gap). */
export const UNCERTAIN_BAND = 0.15;

/** Fitted by `npx tsx bench/answerability-fit.ts --seeds 1,2,3` (see the file comment). */
const WEIGHTS = {
  bias: -1.52,
  coverage: 0.6,
  rarest: 0.86,
  unknown: -3.14,
  title: 1.75,
  specific: -0.92,
  concentration: 0.24,
  margin: 1.3,
  terms: 0.86,
  agreement: -0.01,
};

export function answerabilityFeatures(ranking: Ranking): AnswerabilityFeatures {
  const { query, hits } = ranking;
  // With vectors fused in, the first chunk may have been found by them alone: the lexical signals
  // are read from the best chunk among the first three that matched words.
  const top = hits.slice(0, 3).find((h) => h.lexical !== undefined) ?? hits[0];
  const total = query.idf.reduce((s, x) => s + x, 0);
  const unknownInfo = query.idf.reduce((s, x, i) => s + ((query.df[i] ?? 0) === 0 ? x : 0), 0);
  let rarestIndex = -1;
  query.idf.forEach((x, i) => {
    if ((query.df[i] ?? 0) > 0 && (rarestIndex < 0 || x > (query.idf[rarestIndex] ?? 0))) rarestIndex = i;
  });
  const matched = top?.matched ?? 0;
  const has = (i: number) => i < 30 && (matched & (1 << i)) !== 0;
  // Title, headings and tags of the best chunk: what it is about.
  const label = new Set(
    top
      ? analyzerFor(ranking.lang).terms(
          `${top.chunk.title}\n${top.chunk.headingPath.join("\n")}\n${top.chunk.tags.join("\n")}`,
        )
      : [],
  );
  let titleInfo = 0;
  let specificTotal = 0;
  let specificInfo = 0;
  query.terms.forEach((term, i) => {
    const idf = query.idf[i] ?? 0;
    if (label.has(term)) titleInfo += idf;
    // (At least the words of a single chunk are specific, however small the folder.)
    if ((query.df[i] ?? 0) <= Math.max(1, query.size * specificShare)) {
      specificTotal += idf;
      if (has(i)) specificInfo += idf;
    }
  });
  const byScore = hits
    .filter((h) => h.lexical !== undefined)
    .sort((a, b) => (b.lexical ?? 0) - (a.lexical ?? 0));
  const best = byScore[0];
  const ten = byScore.slice(0, 10);
  const mass = ten.reduce((s, h) => s + (h.lexical ?? 0), 0);
  const bestFileMass = ten
    .filter((h) => h.chunk.path === best?.chunk.path)
    .reduce((s, h) => s + (h.lexical ?? 0), 0);
  const denseTop = hits
    .filter((h) => h.cosine !== undefined)
    .sort((a, b) => (b.cosine ?? 0) - (a.cosine ?? 0))[0];
  return {
    coverage: top?.coverage ?? 0,
    rarest: rarestIndex >= 0 && has(rarestIndex) ? 1 : 0,
    unknown: total > 0 ? unknownInfo / total : 1,
    title: total > 0 ? titleInfo / total : 0,
    specific: specificTotal > 0 ? specificInfo / specificTotal : (top?.coverage ?? 0),
    concentration: mass > 0 ? bestFileMass / mass : 0,
    margin: Math.max(
      0,
      (top?.coverage ?? 0) -
        Math.max(0, ...hits.filter((h) => h.chunk.path !== top?.chunk.path).map((h) => h.coverage ?? 0)),
    ),
    terms: query.terms.length,
    agreement: denseTop && best ? (denseTop.chunk.path === best.chunk.path ? 1 : 0) : 0.5,
  };
}

/** The features in the model's order, transformed as the model wants them. */
export function featureVector(f: AnswerabilityFeatures): number[] {
  return [
    f.coverage,
    f.rarest,
    f.unknown,
    f.title,
    f.specific,
    f.concentration,
    f.margin,
    Math.log(1 + f.terms),
    f.agreement,
  ];
}

export type AnswerabilityWeights = typeof WEIGHTS;

/** The model's features, in `featureVector()`'s order. */
export const FEATURE_NAMES = [
  "coverage",
  "rarest",
  "unknown",
  "title",
  "specific",
  "concentration",
  "margin",
  "terms",
  "agreement",
] as const;

export function confidenceOf(f: AnswerabilityFeatures, w: AnswerabilityWeights = WEIGHTS): number {
  const x = featureVector(f);
  const z = FEATURE_NAMES.reduce((sum, name, i) => sum + w[name] * (x[i] ?? 0), w.bias);
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
