/** The web-chat HTTP API as the widget uses it (see adapters/webchat for the server side). */

export interface Citation {
  n: number;
  title: string;
  url?: string;
  path: string;
  heading?: string;
}

export interface Turn {
  /** The answer's message id. */
  messageId: string;
  question: string;
  answer: string;
  citations: Citation[];
  feedback?: { vote: "up" | "down" };
}

export interface Session {
  conversationId: string;
  token: string;
}

/** A user id signed by the host page's own server (HMAC-SHA256 with the site's identity secret). */
export interface Identity {
  userId: string;
  userHash: string;
}

/**
 * A refused or failed call. `code` is the gateway's error code, or `offline` when the request never
 * reached it.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** What the gateway says about the page asking (GET /webchat/v1/config). */
export interface SiteConfig {
  /** Whether this page's origin may use the chat (WEBCHAT_ALLOWED_ORIGINS or a WEBCHAT_SITES entry). */
  allowed: boolean;
}

/** Calls the gateway's `/webchat/v1` API. */
export class ChatClient {
  private readonly api: string;

  constructor(private readonly apiBase: string) {
    this.api = `${apiBase}/webchat/v1/conversations`;
  }

  /** Asks, before showing anything, whether this page may use the chat. */
  config(): Promise<SiteConfig> {
    return this.call("GET", `${this.apiBase}/webchat/v1/config`);
  }

  /** A language pack's texts (served by the gateway beside widget.js, cacheable unlike the API). */
  async strings(pack: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.apiBase}/webchat/i18n/${encodeURIComponent(pack)}.json`, {
      credentials: "omit",
    });
    if (!res.ok) throw new ApiError(`http_${res.status}`, res.statusText, res.status);
    return res.json();
  }

  createConversation(identity?: Identity): Promise<Session> {
    return this.call("POST", this.api, undefined, identity ?? {});
  }

  /**
   * `lang`: the visitor's language (BCP 47), so that the answer can be written in it.
   * `handedOff` in the result: a person has this conversation; no answer will stream for the message.
   */
  async send(
    session: Session,
    text: string,
    clientMessageId: string,
    lang: string,
  ): Promise<{ messageId: string; handedOff?: boolean }> {
    return this.call("POST", `${this.path(session)}/messages`, session, { text, clientMessageId, lang });
  }

  async turns(session: Session): Promise<Turn[]> {
    const body = await this.call<{ turns: Turn[] }>("GET", this.path(session), session);
    return body.turns;
  }

  feedback(session: Session, messageId: string, vote: "up" | "down"): Promise<unknown> {
    return this.call("POST", `${this.path(session)}/feedback`, session, { messageId, vote });
  }

  handoff(session: Session, messageId: string | undefined): Promise<unknown> {
    return this.call("POST", `${this.path(session)}/handoff`, session, messageId ? { messageId } : {});
  }

  eventsUrl(session: Session): string {
    return `${this.path(session)}/events`;
  }

  authHeaders(session: Session): Record<string, string> {
    return { authorization: `Bearer ${session.token}` };
  }

  private path(session: Session): string {
    return `${this.api}/${encodeURIComponent(session.conversationId)}`;
  }

  private async call<T>(method: string, url: string, session?: Session, body?: unknown): Promise<T> {
    const headers: Record<string, string> = session ? this.authHeaders(session) : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new ApiError("offline", "network", 0);
    }
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) {
      const retry = Number(res.headers.get("retry-after"));
      throw new ApiError(
        json.error?.code ?? `http_${res.status}`,
        json.error?.message ?? res.statusText,
        res.status,
        Number.isFinite(retry) && retry > 0 ? retry : undefined,
      );
    }
    return json as T;
  }
}
