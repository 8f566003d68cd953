import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { detectLanguage, normalizeLang } from "../../../src/knowledge/language.ts";
import { analyze, analyzerFor } from "../../../src/knowledge/text-analyzer.ts";

describe("language detection", () => {
  const cases: [string, string][] = [
    ["退款要多久才能到账", "zh"],
    ["パスワードを忘れました", "ja"],
    ["ฉันจะรีเซ็ตรหัสผ่านได้อย่างไร", "th"],
    ["Comment puis-je réinitialiser mon mot de passe ?", "fr"],
    ["Wie kann ich mein Passwort zurücksetzen?", "de"],
    ["¿Cómo restablezco mi contraseña?", "es"],
    ["quando recebo o meu dinheiro de volta", "pt"],
    ["How do I reset my password?", "en"],
  ];
  for (const [text, lang] of cases) {
    it(`tells ${lang} from "${text}"`, () => {
      assert.equal(detectLanguage(text).lang, lang);
    });
  }

  it("falls back, unsure, when a text gives no evidence", () => {
    assert.deepEqual(detectLanguage("E42 12345", "de"), { lang: "de", confident: false });
  });

  it("reads the primary subtag of a language tag", () => {
    assert.equal(normalizeLang("en-GB"), "en");
    assert.equal(normalizeLang("zh-Hant-TW"), "zh");
    assert.equal(normalizeLang("pt_BR"), "pt");
    assert.equal(normalizeLang("not a tag!"), undefined);
  });
});

describe("analyzers", () => {
  it("segments Chinese into words, so a question meets an article's words", () => {
    const question = analyze("退款要多久才能到账", "zh");
    const article = analyze("退款需要多长时间？银行通常需要5到10个工作日才能到账。", "zh");
    assert.ok(question.includes("退款"), question.join("|"));
    assert.ok(question.filter((t) => article.includes(t)).length >= 2, `${question} / ${article}`);
    // Question words and particles are stop words.
    assert.ok(!question.includes("要"));
  });

  it("segments Japanese and drops its particles", () => {
    const terms = analyze("パスワードをリセットするにはどうすればいいですか", "ja");
    assert.ok(terms.includes("パスワード"), terms.join("|"));
    assert.ok(!terms.includes("を"));
  });

  it("stems French and German and folds accents, so word forms meet", () => {
    assert.deepEqual(analyze("remboursé", "fr"), analyze("remboursements", "fr"));
    assert.deepEqual(analyze("Rückerstattungen", "de"), analyze("Rückerstattung", "de"));
    assert.deepEqual(analyze("contraseñas", "es"), analyze("contraseña", "es"));
    assert.deepEqual(analyze("reembolsos", "pt"), analyze("reembolso", "pt"));
  });

  it("drops each language's question words", () => {
    assert.deepEqual(analyze("comment puis-je faire", "fr"), []);
    assert.deepEqual(analyze("wie kann ich", "de"), []);
    assert.deepEqual(analyze("how do I", "en"), []);
  });

  it("keeps English stemming as before and searches a hyphenated word whole and in parts", () => {
    assert.deepEqual(analyze("refunded refunds", "en"), ["refund"]);
    const terms = analyzerFor("en").terms("Wi-Fi");
    assert.deepEqual(terms, ["wi", "fi", "wifi"]);
  });

  it("keeps codes and digits as they are, and folds full-width forms", () => {
    assert.deepEqual(analyze("E42 error 19", "en"), ["e42", "error", "19"]);
    assert.deepEqual(analyzerFor("ja").terms("ＷｉＦｉ"), ["wifi"]);
  });
});
