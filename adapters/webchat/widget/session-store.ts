/** The widget's session, kept in sessionStorage so that a reload (same tab) continues the conversation. */
export interface StoredSession {
  conversationId: string;
  token: string;
  /**
   * Questions sent whose answers had not finished, so that a reload shows them again. (No event id is
   * kept: a reloaded page replays the conversation's stream from its start, skips the answers it already
   * has from the history and shows an unfinished answer whole.)
   */
  pending?: { messageId: string; text: string }[];
  /** The verified user the session belongs to, when the host page passed an identity. */
  userId?: string;
}

/** sessionStorage under one key per gateway; quietly does nothing where storage is blocked. */
export class SessionStore {
  private readonly key: string;

  constructor(apiBase: string) {
    this.key = `support-chat:${apiBase}`;
  }

  load(): StoredSession | undefined {
    try {
      const raw = sessionStorage.getItem(this.key);
      if (!raw) return undefined;
      const value = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof value.conversationId !== "string" || typeof value.token !== "string") return undefined;
      return value as StoredSession;
    } catch {
      return undefined;
    }
  }

  save(session: StoredSession): void {
    try {
      sessionStorage.setItem(this.key, JSON.stringify(session));
    } catch {
      // Storage blocked (privacy mode, sandboxed frame): the chat still works for this page view.
    }
  }

  clear(): void {
    try {
      sessionStorage.removeItem(this.key);
    } catch {
      // as above
    }
  }
}
