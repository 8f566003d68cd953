import type { PackLanguage } from "../language.ts";
import type { Strings } from "../strings.ts";
import { ar } from "./ar.ts";
import { de } from "./de.ts";
import { es } from "./es.ts";
import { fr } from "./fr.ts";
import { ja } from "./ja.ts";
import { pt } from "./pt.ts";
import { zh } from "./zh.ts";

/**
 * Every language pack, for the gateway to serve (never imported by the widget itself, so the bundle
 * stays English-only). Typed by the widget's list of pack codes, so the two cannot drift apart.
 */
export const languagePacks: Record<PackLanguage, Strings> = { ar, de, es, fr, ja, pt, zh };
