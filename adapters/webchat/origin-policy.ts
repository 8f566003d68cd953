import type { Config } from "../../src/config.ts";

/** One site that embeds the widget: where it may be loaded from and how its users are identified. */
export interface WebchatSite {
  /** Also the tenant of the site's conversations. */
  id: string;
  /** Allowed page origins: exact (`https://shop.example`) or one wildcard label (`https://*.shop.example`). */
  origins: string[];
  /** Shared with the site's own server, which signs user ids with it (HMAC-SHA256). */
  identitySecret?: string;
  /** Refuse conversations without a correctly signed identity. */
  requireIdentity: boolean;
}

/** The id of the site made of the WEBCHAT_* settings, which also serves same-origin pages. */
export const DEFAULT_SITE_ID = "web";

/** The default site (WEBCHAT_ALLOWED_ORIGINS...) followed by every WEBCHAT_SITES entry. */
export function sitesFromConfig(webchat: Config["webchat"]): WebchatSite[] {
  const defaultSite: WebchatSite = {
    id: DEFAULT_SITE_ID,
    origins: webchat.allowedOrigins,
    requireIdentity: webchat.requireIdentity,
  };
  if (webchat.identitySecret) defaultSite.identitySecret = webchat.identitySecret;
  return [defaultSite, ...webchat.sites];
}

/** What the policy decided for one request. */
export type OriginDecision =
  | {
      allowed: true;
      site: WebchatSite /** The Origin to echo in CORS headers, when cross-origin. */;
      cors?: string;
    }
  | { allowed: false; origin: string };

/**
 * Decides which site a browser request comes from, by its Origin header. Browsers always send Origin on
 * cross-origin requests and on same-origin POSTs, and a page cannot forge it, so a page on an origin no
 * site lists cannot use the API from a visitor's browser. Requests without Origin (same-origin GETs,
 * server-side clients) belong to the default site: the Origin check protects browsers; tokens, identity
 * signatures and rate limits protect the API itself.
 */
export class OriginPolicy {
  readonly #sites: WebchatSite[];
  readonly #defaultSite: WebchatSite;
  readonly #publicOrigin: string | undefined;

  constructor(sites: WebchatSite[], publicUrl?: string) {
    const first = sites[0];
    if (!first) throw new Error("OriginPolicy needs at least the default site");
    this.#sites = sites;
    this.#defaultSite = first;
    this.#publicOrigin = publicUrl ? normalizeOrigin(publicUrl) : undefined;
  }

  /**
   * @param origin the request's Origin header
   * @param ownOrigin the origin the request was addressed to (scheme + Host), for same-origin pages
   */
  decide(origin: string | undefined, ownOrigin: string): OriginDecision {
    if (origin === undefined || origin === "") return { allowed: true, site: this.#defaultSite };
    const normalized = normalizeOrigin(origin);
    // "null" (sandboxed frames, file:// pages) and malformed values identify no site.
    if (normalized === undefined) return { allowed: false, origin };
    for (const site of this.#sites) {
      if (site.origins.some((pattern) => originMatches(pattern, normalized))) {
        return { allowed: true, site, cors: normalized };
      }
    }
    if (normalized === normalizeOrigin(ownOrigin) || normalized === this.#publicOrigin) {
      return { allowed: true, site: this.#defaultSite };
    }
    return { allowed: false, origin };
  }
}

/** `scheme://host[:port]` in the form browsers send, or undefined for anything else. */
export function normalizeOrigin(value: string): string | undefined {
  if (value === "null") return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/**
 * Exact origin match, or `scheme://*.domain[:port]` matching any subdomain (not the bare domain: list
 * it separately when wanted, as browsers' own wildcard rules do).
 */
export function originMatches(pattern: string, origin: string): boolean {
  const wildcard = /^(https?):\/\/\*\.([^/:]+)(:\d+)?\/?$/i.exec(pattern.trim());
  if (!wildcard) return normalizeOrigin(pattern.trim()) === origin;
  const [, scheme, domain, port] = wildcard;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const expectedPort = port ? port.slice(1) : "";
  return (
    url.protocol === `${scheme?.toLowerCase()}:` &&
    url.port === expectedPort &&
    url.hostname.endsWith(`.${domain?.toLowerCase()}`)
  );
}
