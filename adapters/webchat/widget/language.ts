/**
 * Which language the widget speaks. Only the codes live in the bundle; each pack's texts are served by
 * the gateway at /webchat/i18n/<code>.json (see ./i18n/), so adding a language costs the script nothing.
 */

/** Languages with a pack besides English (the bundle's own). Keep in step with ./i18n/packs.ts. */
export const packLanguages = ["ar", "de", "es", "fr", "ja", "pt", "zh"] as const;
export type PackLanguage = (typeof packLanguages)[number];

/** Languages written right to left (of those with a pack, and those likely to get one). */
const rightToLeft = new Set(["ar", "he", "fa", "ur"]);

export interface ChosenLanguage {
  /**
   * The visitor's language as the page states it (a BCP 47 tag such as `pt-BR`); sent with each message
   * so that answers can be written in it even where the widget has no pack of its own.
   */
  tag: string;
  /** The pack the widget's own texts come from: `en` when it has none for `tag`. */
  pack: PackLanguage | "en";
  dir: "ltr" | "rtl";
}

const wellFormed = /^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i;

/**
 * The first well-formed tag of `candidates` (most specific source first: the element's `lang`, the
 * page's, the browser's), and the pack for it. Matching is on the primary subtag (`fr-CA` uses `fr`);
 * Chinese of any script or region uses the one (simplified) pack. No tag at all means English.
 */
export function chooseLanguage(candidates: readonly (string | null | undefined)[]): ChosenLanguage {
  const tag = candidates.map((c) => c?.trim().replace(/_/g, "-") ?? "").find((c) => wellFormed.test(c));
  if (!tag) return { tag: "en", pack: "en", dir: "ltr" };
  const primary = (tag.split("-")[0] ?? "").toLowerCase();
  const pack = (packLanguages as readonly string[]).includes(primary) ? (primary as PackLanguage) : "en";
  return { tag, pack, dir: rightToLeft.has(pack) ? "rtl" : "ltr" };
}
