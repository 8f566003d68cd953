import { stopWordsOf } from "./stop-words.ts";

/**
 * Languages with their own analysis (stemming, stop words, word segmentation). Any other language
 * tag is searched with the generic analysis (lower case, accents folded, no stemming).
 */
export const ANALYZED_LANGUAGES = ["en", "fr", "de", "es", "pt", "zh", "ja", "th"] as const;
export type AnalyzedLanguage = (typeof ANALYZED_LANGUAGES)[number];

/**
 * The primary subtag of a BCP 47 tag, lower case: `en-GB` -> `en`, `zh-Hant-TW` -> `zh`,
 * `pt_BR` -> `pt`. Undefined for anything that is not a language tag.
 */
export function normalizeLang(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  const primary = /^([A-Za-z]{2,3})(?:[-_]|$)/.exec(tag.trim())?.[1]?.toLowerCase();
  return primary;
}

export interface DetectedLanguage {
  lang: string;
  /** False when the text gave little evidence (one word, or two languages scored alike). */
  confident: boolean;
}

const HAN = /\p{Script=Han}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const THAI = /\p{Script=Thai}/u;
const HANGUL = /\p{Script=Hangul}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN_WORD = /\p{Script=Latin}+/gu;

/** Letters that only some Latin-script languages use: a strong hint even in a two-word question. */
const LETTER_HINTS: Record<string, string> = {
  de: "äöüß",
  es: "ñ¿¡",
  pt: "ãõ",
  fr: "èêëàâîïôûùœç",
};

const latinLanguages = ["en", "fr", "de", "es", "pt"] as const;

/**
 * Guesses the language of a question or an article. Scripts decide Chinese, Japanese and Thai at
 * once (kana means Japanese; Han without kana, Chinese); Latin-script text is scored by its function
 * words (each weighed by how few languages share it) and by letters only some languages use.
 * @param fallback the answer when the text gives no evidence (a folder's main language, say).
 */
export function detectLanguage(text: string, fallback = "en"): DetectedLanguage {
  if (KANA.test(text)) return { lang: "ja", confident: true };
  if (HAN.test(text)) {
    // Han characters with no Latin words around them: Chinese. A Latin sentence quoting one Han
    // word is still scored as Latin below.
    const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
    const latin = text.match(LATIN_WORD)?.join("").length ?? 0;
    if (han * 2 >= latin) return { lang: "zh", confident: true };
  }
  if (THAI.test(text)) return { lang: "th", confident: true };
  if (HANGUL.test(text)) return { lang: "ko", confident: true };
  if (CYRILLIC.test(text)) return { lang: "ru", confident: false };
  const lower = text.toLowerCase();
  const words = lower.match(/[\p{L}']+/gu) ?? [];
  const scores = new Map<string, number>(latinLanguages.map((l) => [l, 0]));
  for (const word of words) {
    const w = word.replace(/^'+|'+$/g, "");
    // One letter ("e", "a", "y") is a word in several languages, or a code: no evidence.
    if (w.length < 2) continue;
    const owners = latinLanguages.filter((l) => stopWordsOf(l).has(w));
    for (const l of owners) scores.set(l, (scores.get(l) ?? 0) + 1 / owners.length);
  }
  for (const [lang, letters] of Object.entries(LETTER_HINTS)) {
    for (const ch of letters) if (lower.includes(ch)) scores.set(lang, (scores.get(lang) ?? 0) + 1.5);
  }
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1]);
  const [best, second] = ranked;
  if (!best || best[1] === 0) return { lang: fallback, confident: false };
  const confident = best[1] >= 1 && best[1] - (second?.[1] ?? 0) >= 0.75;
  return { lang: best[0], confident };
}
