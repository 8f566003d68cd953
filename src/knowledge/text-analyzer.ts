import MiniSearch from "minisearch";
import stem from "wink-porter2-stemmer";

/**
 * English function words that carry no topic. Questions are full of them ("how do I ..."), and
 * without this list they would match every article and defeat the relevance floor.
 */
const stopWords = new Set(
  (
    "a an the and or but if then else of at by for with about against between into through during before after " +
    "above below to from up down in out on off over under again further once here there when where why how all " +
    "any both each few more most other some such no nor not only own same so than too very can will just should " +
    "would could might must shall may i me my myself we our ours you your yours he him his she her hers it its " +
    "they them their theirs what which who whom this that these those am is are was were be been being have has " +
    "had having do does did doing s t d ll m re ve don doesn didn isn aren wasn weren won wouldn shouldn couldn " +
    "can't cannot please hi hello thanks thank anyone someone get got know want need like also still yet"
  ).split(/\s+/),
);

const tokenizeDefault = MiniSearch.getDefault("tokenize") as (text: string) => string[];

/**
 * Stems already computed. Stemming dominates indexing time and a folder's vocabulary is small
 * (tens of thousands of words), so the cache is bounded only by clearing it when it grows large.
 */
const stems = new Map<string, string | null>();
const maxCachedStems = 200_000;

/** True for function words that say nothing about a topic ("how", "do", "my"); expects lower case. */
export function isStopWord(word: string): boolean {
  return stopWords.has(word);
}

/** Lower-cases, drops stop words and stems; null means "not a search term". */
export function analyzeTerm(term: string): string | null {
  const cached = stems.get(term);
  if (cached !== undefined) return cached;
  const lower = term.toLowerCase();
  // Digits and codes ("19", "e42") are kept as they are; the stemmer is for words.
  const result =
    lower.length === 0 || stopWords.has(lower) ? null : /^[a-z]+$/.test(lower) ? stem(lower) : lower;
  if (stems.size >= maxCachedStems) stems.clear();
  stems.set(term, result);
  return result;
}

export function tokenize(text: string): string[] {
  return tokenizeDefault(text);
}

/** The distinct search terms of a text, in order of first appearance. */
export function analyze(text: string): string[] {
  const seen = new Set<string>();
  for (const token of tokenize(text)) {
    const term = analyzeTerm(token);
    if (term !== null) seen.add(term);
  }
  return [...seen];
}
