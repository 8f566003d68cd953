import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../../../../../adapters/webchat/widget/chat-client.ts";
import { languagePacks } from "../../../../../adapters/webchat/widget/i18n/packs.ts";
import { chooseLanguage, packLanguages } from "../../../../../adapters/webchat/widget/language.ts";
import { describeError, en, withPack } from "../../../../../adapters/webchat/widget/strings.ts";

describe("chooseLanguage", () => {
  it("takes the first source that names a language: the element's, then the page's, then the browser's", () => {
    assert.deepEqual(chooseLanguage(["de", "fr", "ja"]), { tag: "de", pack: "de", dir: "ltr" });
    assert.deepEqual(chooseLanguage([null, "fr", "ja"]), { tag: "fr", pack: "fr", dir: "ltr" });
    assert.deepEqual(chooseLanguage([undefined, "", "ja-JP"]), { tag: "ja-JP", pack: "ja", dir: "ltr" });
  });

  it("matches a pack by the primary subtag, any region or script", () => {
    assert.equal(chooseLanguage(["fr-CA"]).pack, "fr");
    assert.equal(chooseLanguage(["PT-br"]).pack, "pt");
    assert.equal(chooseLanguage(["zh-Hant-TW"]).pack, "zh");
    assert.equal(chooseLanguage(["es-419"]).pack, "es");
    assert.deepEqual(chooseLanguage(["en_US"]), { tag: "en-US", pack: "en", dir: "ltr" });
  });

  it("writes Arabic right to left", () => {
    assert.deepEqual(chooseLanguage(["ar-EG"]), { tag: "ar-EG", pack: "ar", dir: "rtl" });
  });

  it("falls back to English for a language without a pack, keeping the tag to send with messages", () => {
    assert.deepEqual(chooseLanguage(["tlh"]), { tag: "tlh", pack: "en", dir: "ltr" });
    assert.deepEqual(
      chooseLanguage(["he"]),
      { tag: "he", pack: "en", dir: "ltr" },
      "no Hebrew pack: English, LTR",
    );
  });

  it("skips values that are not language tags, and with none at all speaks English", () => {
    assert.equal(chooseLanguage(["not a language", "<b>", "fr"]).pack, "fr");
    assert.deepEqual(chooseLanguage([]), { tag: "en", pack: "en", dir: "ltr" });
    assert.deepEqual(chooseLanguage([" ", "x", "123"]), { tag: "en", pack: "en", dir: "ltr" });
  });
});

describe("language packs", () => {
  const englishKeys = Object.keys(en).sort();
  const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();

  it("exist for exactly the languages the widget knows", () => {
    assert.deepEqual(Object.keys(languagePacks).sort(), [...packLanguages].sort());
  });

  for (const [lang, pack] of Object.entries(languagePacks)) {
    it(`${lang}: has every English key, translated, with the same placeholders and no markup`, () => {
      assert.deepEqual(Object.keys(pack).sort(), englishKeys);
      for (const key of englishKeys) {
        const text = pack[key as keyof typeof en];
        assert.ok(text.trim().length > 0, `${lang}.${key} is empty`);
        assert.deepEqual(placeholders(text), placeholders(en[key as keyof typeof en]), `${lang}.${key}`);
        assert.doesNotMatch(text, /[<>]/, `${lang}.${key} has no markup`);
      }
      const same = englishKeys.filter((key) => pack[key as keyof typeof en] === en[key as keyof typeof en]);
      // A few words are the same in some languages ("Sources" in French, "Assistant" in French).
      assert.ok(same.length <= 3, `${lang}: untranslated ${same.join(", ")}`);
    });
  }
});

describe("withPack and describeError", () => {
  it("keeps English for keys a pack lacks or gets wrong, and ignores keys it does not know", () => {
    const t = withPack({ send: "Envoyer", close: 42, retry: "", extra: "x" });
    assert.equal(t.send, "Envoyer");
    assert.equal(t.close, en.close);
    assert.equal(t.retry, en.retry);
    assert.ok(!("extra" in t));
  });

  it("words a failure in the pack's language, with the seconds to wait", () => {
    const fr = withPack(languagePacks.fr);
    assert.equal(
      describeError(new ApiError("busy", "", 429, 10), fr),
      "Nous répondons à beaucoup de questions en ce moment. Veuillez réessayer dans 10\u202fs.",
    );
    assert.equal(describeError(new ApiError("busy", "", 429), fr), languagePacks.fr.busy);
    assert.equal(
      describeError(new ApiError("rate_limited", "", 429, 3), en),
      en.rateLimitedIn.replace("{s}", "3"),
    );
    assert.equal(describeError(new ApiError("origin_refused", "", 403), fr), languagePacks.fr.refused);
    assert.equal(describeError({ code: "unavailable" }, fr), languagePacks.fr.unavailable);
    assert.equal(describeError(new Error("boom"), en), en.failure);
  });
});
