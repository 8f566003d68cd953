import { stopwords as french } from "@orama/stopwords/french";
import { stopwords as german } from "@orama/stopwords/german";
import { stopwords as japanese } from "@orama/stopwords/japanese";
import { stopwords as mandarin } from "@orama/stopwords/mandarin";
import { stopwords as portuguese } from "@orama/stopwords/portuguese";
import { stopwords as spanish } from "@orama/stopwords/spanish";

/**
 * Function words that carry no topic, per language. Questions are full of them ("how do I ...",
 * "comment puis-je ...", "我怎么..."), and without them every article would match every question and
 * the answerability decision would have nothing to go on. The lists come from @orama/stopwords, plus
 * the question and courtesy words customers type, which those lists (made for documents) lack.
 */

/** English: curated for support questions (the generic lists drop topic words such as "change"). */
const english =
  "a an the and or but if then else of at by for with about against between into through during before after " +
  "above below to from up down in out on off over under again further once here there when where why how all " +
  "any both each few more most other some such no nor not only own same so than too very can will just should " +
  "would could might must shall may i me my myself we our ours you your yours he him his she her hers it its " +
  "they them their theirs what which who whom this that these those am is are was were be been being have has " +
  "had having do does did doing s t d ll m re ve don doesn didn isn aren wasn weren won wouldn shouldn couldn " +
  "can't cannot please hi hello thanks thank anyone someone get got know want need like also still yet " +
  "many much until tell";

const extras: Record<string, string> = {
  fr:
    "comment combien pourquoi quand quel quelle quels quelles où peut peux puis pouvez pouvons faire fait " +
    "dois doit faut veux voudrais voulez bonjour salut merci svp stp est-ce qu qu' c ça cela ceci quoi y a " +
    "j l d n s m t",
  de:
    "wie was warum wann wo wer welche welcher welches kann kannst können könnte muss musst müssen bitte " +
    "hallo danke möchte möchten gibt es",
  es:
    "cómo como qué que cuándo dónde cuánto cuánta cuántos cuántas puedo puede quiero quisiera hola gracias " +
    "hay usted mi mis está estoy tengo",
  pt:
    "como quando onde quanto quanta quantos quantas posso pode quero queria olá ola obrigado obrigada há " +
    "você não meu minha ao aos à às está estou tenho",
  zh: "请问 怎么 怎样 如何 什么 为什么 吗 呢 吧 啊 我 你 您 的 了 能 可以 要 想 谢谢 你好 请 一下 么",
  ja: "です ます でしょ か どう どうすれば どの なに 何 ください お願い します いい",
};

const fold = (w: string) =>
  w
    .normalize("NFD")
    .replace(/(\p{Script=Latin})\p{M}+/gu, "$1")
    .normalize("NFC");

const lists: Record<string, readonly string[]> = {
  en: english.split(/\s+/),
  fr: french,
  de: german,
  es: spanish,
  pt: portuguese,
  zh: mandarin,
  ja: japanese,
};

const cache = new Map<string, ReadonlySet<string>>();
const none: ReadonlySet<string> = new Set();

/** The stop words of a language (lower case, with accent-folded forms too); empty for others. */
export function stopWordsOf(lang: string): ReadonlySet<string> {
  const cached = cache.get(lang);
  if (cached) return cached;
  const base = lists[lang];
  if (!base) return none;
  const set = new Set<string>();
  for (const w of [...base, ...(extras[lang]?.split(/\s+/) ?? [])]) {
    const lower = w.toLowerCase().trim();
    if (lower.length === 0) continue;
    set.add(lower);
    set.add(fold(lower));
  }
  cache.set(lang, set);
  return set;
}
