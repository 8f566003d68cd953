/**
 * A generated knowledge folder for speed measurements: articles of 5 sections (so 5 chunks each) in
 * made-up words with a Zipf-like frequency, as in real text; in English-like words or, for `zh`,
 * Han characters without spaces (so that every chunk goes through word segmentation).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { rng } from "./dev-sets.ts";

export const SECTIONS = 5;

/** A vocabulary of made-up words with a Zipf-like frequency. */
function vocabulary(random: () => number, lang: "en" | "zh", size = 8000): () => string {
  const syllables =
    lang === "zh"
      ? [
          ..."的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严",
        ]
      : ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "pri", "der", "shi", "ton", "bel", "gar"];
  const words = Array.from({ length: size }, () => {
    const n = lang === "zh" ? 1 + Math.floor(random() * 3) : 2 + Math.floor(random() * 3);
    return Array.from({ length: n }, () => syllables[Math.floor(random() * syllables.length)]).join("");
  });
  return () => words[Math.min(size - 1, Math.floor(size * random() ** 3))] ?? "ka";
}

/**
 * Writes `articles` articles under `dir` (5 chunks each) and returns a question maker (3-8 words of
 * the same vocabulary).
 */
export async function generateFolder(
  dir: string,
  articles: number,
  lang: "en" | "zh" = "en",
): Promise<() => string> {
  const random = rng(42);
  const word = vocabulary(random, lang);
  const join_ = lang === "zh" ? "" : " ";
  const sentence = (n: number) =>
    lang === "zh"
      ? Array.from({ length: n }, (_, i) => `${word()}${i % 9 === 8 ? "，" : ""}`).join("")
      : Array.from({ length: n }, word).join(" ");
  const stop = lang === "zh" ? "。" : ".";
  for (let a = 0; a < articles; a++) {
    const folder = join(dir, `topic-${a % 20}`);
    if (a < 20) await mkdir(folder, { recursive: true });
    const sections = Array.from(
      { length: SECTIONS - 1 },
      (_, s) => `## ${sentence(3)} ${s}\n\n${sentence(40)}${stop}\n\n${sentence(30)}${stop}\n`,
    );
    await writeFile(
      join(folder, `article-${a}.md`),
      `---\ntitle: ${sentence(4)}\ntags: [${word()}, ${word()}]\nlang: ${lang}\n---\n\n${sentence(35)}${stop}\n\n${sections.join("\n")}`,
    );
  }
  return () => Array.from({ length: 3 + Math.floor(random() * 6) }, word).join(join_);
}
