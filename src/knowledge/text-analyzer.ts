import { stemmer as french } from "@orama/stemmers/french";
import { stemmer as german } from "@orama/stemmers/german";
import { stemmer as portuguese } from "@orama/stemmers/portuguese";
import { stemmer as spanish } from "@orama/stemmers/spanish";
import porter2 from "wink-porter2-stemmer";
import { stopWordsOf } from "./stop-words.ts";

/**
 * Turns text into search terms for one language: words found by splitting on spaces and punctuation
 * (or, for Chinese, Japanese and Thai, which have no spaces, by the platform's dictionary-based
 * `Intl.Segmenter`), lower-cased, stop words dropped, stemmed (Snowball stemmers for English, French,
 * German, Spanish and Portuguese), accents folded ("remboursé" and "rembourse" meet).
 */
export interface Analyzer {
  readonly lang: string;
  /** The search terms of a text in order, repeats kept (term frequency matters to BM25). */
  terms(text: string): string[];
}

const stemmers: Record<string, (word: string) => string> = {
  en: porter2,
  fr: french,
  de: german,
  es: spanish,
  pt: portuguese,
};

/** Scripts written without spaces between words: these need a dictionary segmenter. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}]/u;
const WORD = /[\p{L}\p{N}\p{M}]+(?:-[\p{L}\p{N}\p{M}]+)*/gu;
const LETTERS = /^\p{L}+$/u;
const ASCII = /^[\p{ASCII}]*$/u;
const SINGLE_KANA = /^[\p{Script=Hiragana}ー]$/u;
/**
 * Intl.Segmenter slows down sharply on long strings (V8, Node 20: a 100 KB text takes seconds), so
 * text is handed to it a sentence or a line at a time.
 */
const PIECES = /[^\n。！？!?；;]+[\n。！？!?；;]*/gu;
/** Stems kept per language. A folder's vocabulary is small; the cache is cleared when it grows past this. */
const maxCachedTerms = 200_000;

/** Accents off Latin letters ("é" -> "e"); marks of other scripts (Japanese dakuten) stay. */
const fold = (w: string) =>
  ASCII.test(w)
    ? w
    : w
        .normalize("NFD")
        .replace(/(\p{Script=Latin})\p{M}+/gu, "$1")
        .normalize("NFC");

class LanguageAnalyzer implements Analyzer {
  readonly lang: string;
  readonly #stop: ReadonlySet<string>;
  readonly #stem: ((word: string) => string) | undefined;
  readonly #cache = new Map<string, string | null>();
  #segmenter: Intl.Segmenter | undefined;

  constructor(lang: string) {
    this.lang = lang;
    this.#stop = stopWordsOf(lang);
    this.#stem = stemmers[lang];
  }

  terms(text: string): string[] {
    const out: string[] = [];
    if (UNSPACED.test(text)) {
      this.#segmenter ??= new Intl.Segmenter(this.lang, { granularity: "word" });
      for (const piece of text.match(PIECES) ?? []) {
        for (const s of this.#segmenter.segment(piece)) {
          if (s.isWordLike) this.#push(s.segment, out);
        }
      }
      return out;
    }
    for (const match of text.matchAll(WORD)) this.#push(match[0], out);
    return out;
  }

  #push(token: string, out: string[]): void {
    if (token.includes("-")) {
      // "Wi-Fi" is also searched as "wifi", and each part on its own; "puis-je" is two stop words.
      const parts = token.split("-");
      const terms = parts.map((p) => this.term(p));
      for (const t of terms) if (t !== null) out.push(t);
      if (token.length <= 24 && terms.every((t) => t !== null)) this.#push(parts.join(""), out);
      return;
    }
    const term = this.term(token);
    if (term !== null) out.push(term);
  }

  /** One word to its search term; null for a stop word. */
  term(token: string): string | null {
    const cached = this.#cache.get(token);
    if (cached !== undefined) return cached;
    const lower = (ASCII.test(token) ? token : token.normalize("NFKC")).toLowerCase();
    let result: string | null;
    if (lower.length === 0 || this.#stop.has(lower) || SINGLE_KANA.test(lower)) {
      result = null;
    } else {
      const folded = fold(lower);
      if (this.#stop.has(folded)) result = null;
      else if (this.#stem && LETTERS.test(lower)) {
        // Stemmers are written for the language's own spelling (accents included); fold after.
        result = fold(this.#stem(this.lang === "en" ? folded : lower));
      } else {
        // Digits and codes ("19", "e42") are kept as they are.
        result = folded;
      }
    }
    if (this.#cache.size >= maxCachedTerms) this.#cache.clear();
    this.#cache.set(token, result);
    return result;
  }
}

const analyzers = new Map<string, LanguageAnalyzer>();

/** The analyzer of a language (normalized primary subtag); any unknown language gets the generic one. */
export function analyzerFor(lang: string): Analyzer & { term(token: string): string | null } {
  let a = analyzers.get(lang);
  if (!a) {
    a = new LanguageAnalyzer(lang);
    analyzers.set(lang, a);
  }
  return a;
}

/** Words of a text, split on spaces and punctuation (no stemming): for word vectors and grouping. */
export function tokenize(text: string): string[] {
  return text.match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
}

/** True for English function words that say nothing about a topic ("how", "do", "my"); lower case. */
export function isStopWord(word: string): boolean {
  return stopWordsOf("en").has(word);
}

/** One English word to its search term; null means "not a search term". */
export function analyzeTerm(term: string): string | null {
  return analyzerFor("en").term(term);
}

/** The distinct search terms of a text, in order of first appearance. */
export function analyze(text: string, lang = "en"): string[] {
  return [...new Set(analyzerFor(lang).terms(text))];
}
