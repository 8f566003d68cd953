/**
 * A `Retry-After` header (seconds, or an HTTP date) as milliseconds from now; undefined when absent or
 * unreadable. Slack, the Bot Framework connector and webhook receivers all send it with 429 and 503.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
