/** A minimal web chat API client for tests and benchmarks (fetch + a hand-rolled SSE reader). */

export interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

export async function createConversation(
  baseUrl: string,
): Promise<{ conversationId: string; token: string }> {
  const res = await fetch(`${baseUrl}/webchat/v1/conversations`, { method: "POST" });
  if (res.status !== 201) throw new Error(`create conversation: ${res.status} ${await res.text()}`);
  return (await res.json()) as { conversationId: string; token: string };
}

export async function postMessage(
  baseUrl: string,
  conversationId: string,
  token: string,
  text: string,
  clientMessageId?: string,
): Promise<Response> {
  return fetch(`${baseUrl}/webchat/v1/conversations/${conversationId}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(clientMessageId ? { text, clientMessageId } : { text }),
  });
}

/**
 * Opens the conversation's event stream and collects events until `until` returns true (or the time
 * runs out, which rejects). Returns every event received, in order.
 */
export async function collectEvents(
  baseUrl: string,
  conversationId: string,
  token: string,
  until: (events: SseEvent[]) => boolean,
  { timeoutMs = 30_000, lastEventId }: { timeoutMs?: number; lastEventId?: string } = {},
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timed out waiting for events")), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(`${baseUrl}/webchat/v1/conversations/${conversationId}/events`, {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
      signal: controller.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) events.push(event);
        end = buffer.indexOf("\n\n");
      }
      if (until(events)) break;
    }
    return events;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** Parses one SSE event block (the lines between blank lines); comments and empty data give undefined. */
export function parseBlock(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return undefined;
  return { ...(id ? { id } : {}), event, data: JSON.parse(data.join("\n")) as Record<string, unknown> };
}

/** True once every given message has a `reply` or `error` event. */
export const finished =
  (...messageIds: string[]) =>
  (events: SseEvent[]): boolean =>
    messageIds.every((id) =>
      events.some((e) => (e.event === "reply" || e.event === "error") && e.data.messageId === id),
    );
