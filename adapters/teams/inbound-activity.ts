import type { Activity } from "botbuilder";
import { ErrorCode, GatewayError } from "../../src/errors.ts";

/** Where a Teams conversation lives; only personal chats may use Teams' streaming protocol. */
export type TeamsScope = "personal" | "channel" | "groupChat";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}

/**
 * Checks the fields every activity needs before anything else touches it: without a serviceUrl,
 * a conversation id and a sender there is nowhere to reply and no one to answer.
 * @throws GatewayError bad_request naming the missing field.
 */
export function checkActivityShape(body: unknown): Activity {
  if (!isRecord(body)) {
    throw new GatewayError(ErrorCode.BadRequest, "The activity must be a JSON object.");
  }
  if (!nonEmptyString(body.type)) {
    throw new GatewayError(ErrorCode.BadRequest, "The activity has no type.");
  }
  if (!nonEmptyString(body.serviceUrl)) {
    throw new GatewayError(
      ErrorCode.BadRequest,
      "The activity has no serviceUrl, so there is nowhere to reply.",
    );
  }
  let url: URL;
  try {
    url = new URL(body.serviceUrl);
  } catch {
    throw new GatewayError(ErrorCode.BadRequest, "The activity's serviceUrl is not a URL.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new GatewayError(ErrorCode.BadRequest, "The activity's serviceUrl must be http(s).");
  }
  if (!isRecord(body.conversation) || !nonEmptyString(body.conversation.id)) {
    throw new GatewayError(ErrorCode.BadRequest, "The activity has no conversation id.");
  }
  if (!isRecord(body.from) || !nonEmptyString(body.from.id)) {
    throw new GatewayError(ErrorCode.BadRequest, "The activity has no sender (from.id).");
  }
  // botbuilder expects Date objects where the wire has ISO strings (what its own HTTP path converts).
  for (const field of ["timestamp", "localTimestamp", "expiration"] as const) {
    const raw = body[field];
    if (typeof raw === "string") body[field] = new Date(raw);
  }
  // The fields the gateway relies on are checked one by one above.
  return body as unknown as Activity;
}

/**
 * True when `serviceUrl` may receive the bot's replies. An entry with a scheme ("http://127.0.0.1:3978")
 * must equal the URL's origin; an entry without one is a host name, https only, where "*.example.com"
 * matches any sub-domain. Teams always sends https URLs on Microsoft's hosts, so anything else is someone
 * trying to point the bot (and, with credentials on, its access token) at their own server.
 */
export function serviceUrlAllowed(serviceUrl: string, allowlist: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  return allowlist.some((raw) => {
    const entry = raw.trim().toLowerCase().replace(/\/+$/, "");
    if (entry.includes("://")) return url.origin.toLowerCase() === entry;
    if (url.protocol !== "https:") return false;
    if (entry.startsWith("*.")) return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
    return host === entry;
  });
}

/** The tenant (Entra directory) the activity comes from, or undefined when Teams did not say. */
export function tenantOf(activity: Activity): string | undefined {
  const channelData: unknown = activity.channelData;
  if (isRecord(channelData) && isRecord(channelData.tenant) && nonEmptyString(channelData.tenant.id)) {
    return channelData.tenant.id;
  }
  const fromConversation = activity.conversation?.tenantId;
  return nonEmptyString(fromConversation) ? fromConversation : undefined;
}

/** Personal chat, team channel or group chat, from `conversation.conversationType`. */
export function scopeOf(activity: Activity): TeamsScope {
  const type = activity.conversation?.conversationType;
  if (type === "channel") return "channel";
  if (type === "groupChat") return "groupChat";
  if (type === "personal") return "personal";
  return activity.conversation?.isGroup ? "groupChat" : "personal";
}

/** True when a mention entity names the bot (recipient) itself. */
export function mentionsBot(activity: Activity): boolean {
  const botId = activity.recipient?.id;
  if (!botId) return false;
  return (activity.entities ?? []).some((entity) => {
    const mentioned: unknown = (entity as { mentioned?: unknown }).mentioned;
    return entity.type === "mention" && isRecord(mentioned) && mentioned.id === botId;
  });
}

/** True when the activity reports the bot itself among the members just added. */
export function botWasAdded(activity: Activity): boolean {
  const botId = activity.recipient?.id;
  return botId !== undefined && (activity.membersAdded ?? []).some((member) => member.id === botId);
}

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/**
 * A numeric character reference as HTML reads it: outside Unicode (past U+10FFFF, or too long to be a
 * number), NUL and lone surrogates become U+FFFD instead of throwing (`&#x110000;` was a 500).
 */
function codePoint(n: number): string {
  if (!Number.isSafeInteger(n) || n <= 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "\ufffd";
  return String.fromCodePoint(n);
}

/**
 * The user's words without markup: Teams puts HTML in `text` when the message was formatted (and
 * leaves `<at>` tags of other people's mentions), which the model should not see as characters.
 */
export function plainText(text: string): string {
  return text
    .replace(/<\/(p|div|li)>|<br\s*\/?>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (match, name: string) => {
      if (name.startsWith("#x") || name.startsWith("#X"))
        return codePoint(Number.parseInt(name.slice(2), 16));
      if (name.startsWith("#")) return codePoint(Number.parseInt(name.slice(1), 10));
      return entities[name.toLowerCase()] ?? match;
    })
    .replace(/[ \t]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .trim();
}
