import { ApiError, type ChatClient, type Citation, type Identity, type Session } from "./chat-client.ts";
import type { ChatView } from "./chat-view.ts";
import { EventStream, type StreamEvent } from "./event-stream.ts";
import type { SessionStore, StoredSession } from "./session-store.ts";
import { describeError, type Strings } from "./strings.ts";

interface FinalEvent {
  messageId: string;
  text: string;
  citations?: Citation[];
}

/**
 * The widget's behaviour: starts a conversation on the first message, follows the conversation's event
 * stream, restores everything after a reload, and turns failures into plain words with a retry.
 */
export class ChatController {
  private session: StoredSession | undefined;
  private stream: EventStream | undefined;
  /** Answers asked for and not finished yet. */
  private readonly pending = new Set<string>();
  /** Events for answers not (yet) known to this page, by message id. */
  private readonly early = new Map<string, StreamEvent[]>();
  private restored = false;

  constructor(
    private readonly view: ChatView,
    private readonly client: ChatClient,
    private readonly store: SessionStore,
    private readonly identity: Identity | undefined,
    /** The visitor's language, sent with every message. */
    private readonly lang: string,
  ) {}

  private get t(): Strings {
    return this.view.t;
  }

  /** Reloads an earlier conversation of this tab (sessionStorage), if any. Safe to call repeatedly. */
  async restore(): Promise<void> {
    if (this.restored) return;
    this.restored = true;
    const stored = this.store.load();
    if (!stored) return;
    if (this.identity && stored.userId !== this.identity.userId) {
      // Someone else signed in on this tab: never show them the previous person's conversation.
      this.store.clear();
      return;
    }
    this.session = stored;
    try {
      const turns = await this.client.turns(stored);
      for (const turn of turns) {
        this.view.addUserMessage(turn.question);
        this.finish(
          { messageId: turn.messageId, text: turn.answer, citations: turn.citations },
          turn.feedback?.vote,
        );
      }
      for (const question of stored.pending ?? []) {
        if (this.view.hasAnswer(question.messageId)) continue;
        this.view.addUserMessage(question.text);
        this.pending.add(question.messageId);
      }
      this.savePending();
      this.view.setTyping(this.pending.size > 0);
      this.follow();
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        // Expired or unknown session: start afresh on the next message.
        this.store.clear();
        this.session = undefined;
      } else {
        this.view.showError(describeError(error, this.t), () => {
          this.restored = false;
          void this.restore();
        });
      }
    }
  }

  /** Sends one question; `retryOf` re-sends a failed one with the same id so it cannot be answered twice. */
  async send(text: string, retryOf?: string): Promise<void> {
    const clientMessageId = retryOf ?? crypto.randomUUID();
    if (!retryOf) this.view.addUserMessage(text);
    this.view.setTyping(true);
    try {
      const session = await this.ensureSession();
      const { messageId, handedOff } = await this.client.send(session, text, clientMessageId, this.lang);
      if (handedOff) {
        // A person has the conversation: the bot will not answer, so stop "typing" and say who will.
        this.view.setTyping(this.pending.size > 0);
        this.view.showNotice(this.t.withPerson);
        this.view.announce(this.t.withPerson);
        return;
      }
      if (!this.view.hasAnswer(messageId) || !this.view.answer(messageId).done) {
        this.pending.add(messageId);
        this.savePending(messageId, text);
        const held = this.early.get(messageId) ?? [];
        this.early.delete(messageId);
        for (const event of held) this.onEvent(event);
      }
      this.follow();
    } catch (error) {
      this.view.setTyping(this.pending.size > 0);
      const retryable =
        !(error instanceof ApiError) || error.status === 0 || error.status === 429 || error.status >= 500;
      this.view.showError(
        describeError(error, this.t),
        retryable ? () => void this.send(text, clientMessageId) : undefined,
      );
      this.view.announce(describeError(error, this.t));
    }
  }

  private async ensureSession(): Promise<Session> {
    if (this.session) return this.session;
    const created = await this.client.createConversation(this.identity);
    this.session = { conversationId: created.conversationId, token: created.token };
    if (this.identity) this.session.userId = this.identity.userId;
    this.store.save(this.session);
    return this.session;
  }

  /** Opens the conversation's event stream once; it reconnects on its own and resumes by event id. */
  private follow(): void {
    const session = this.session;
    if (this.stream || !session) return;
    this.stream = new EventStream({
      url: this.client.eventsUrl(session),
      headers: this.client.authHeaders(session),
      onEvent: (event) => this.onEvent(event),
      holdsPosition: (event) => event.event === "reply" || event.event === "error",
      onOpen: () => this.view.setStatus(null),
      onDrop: () => this.view.setStatus(this.t.reconnecting),
      onRefused: () => {
        this.stream = undefined;
        this.view.setStatus(null);
      },
    });
  }

  private onEvent(event: StreamEvent): void {
    let data: { messageId?: string; text?: string; citations?: Citation[]; code?: string; message?: string };
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    const messageId = data.messageId;
    if (typeof messageId !== "string") return;
    if (!this.pending.has(messageId) && !this.view.hasAnswer(messageId)) {
      // Not a question of this page (yet): an answer kept from before the history window, replayed after
      // a reload, or one whose events beat our own POST's response. Held until `send` claims it.
      const held = this.early.get(messageId) ?? [];
      held.push(event);
      this.early.set(messageId, held);
      for (const id of this.early.keys()) if (this.early.size > 20) this.early.delete(id);
      return;
    }
    const answered = this.view.hasAnswer(messageId) && this.view.answer(messageId).done;
    if (!answered) {
      if (event.event === "token" && typeof data.text === "string") {
        this.view.setTyping(false);
        this.view.answer(messageId).append(data.text);
      } else if (event.event === "reply" && typeof data.text === "string") {
        this.finish({ messageId, text: data.text, citations: data.citations ?? [] });
        this.view.announce(`${this.t.bot}: ${this.view.answer(messageId).plainText}`);
      } else if (event.event === "error") {
        if (this.pending.delete(messageId)) this.savePending();
        const failure = new ApiError(data.code ?? "internal", data.message ?? "", 500);
        this.view.showError(describeError(failure, this.t));
        this.view.announce(describeError(failure, this.t));
      }
    }
    this.view.setTyping(this.pending.size > 0 && ![...this.pending].some((id) => this.view.hasAnswer(id)));
  }

  /** Keeps the unfinished questions (plus a new one) in the stored session. */
  private savePending(messageId?: string, text?: string): void {
    const session = this.session;
    if (!session) return;
    const known = new Map((session.pending ?? []).map((q) => [q.messageId, q.text]));
    if (messageId && text !== undefined) known.set(messageId, text);
    session.pending = [...known]
      .filter(([id]) => this.pending.has(id))
      .map(([id, t]) => ({ messageId: id, text: t }));
    this.store.save(session);
  }

  private finish(answer: FinalEvent, vote?: "up" | "down"): void {
    if (this.pending.delete(answer.messageId)) this.savePending();
    const session = this.session;
    this.view.answer(answer.messageId).finish(
      answer.text,
      answer.citations ?? [],
      {
        onVote: async (v) => {
          if (session) await this.client.feedback(session, answer.messageId, v);
        },
        onHandoff: async () => {
          if (session) await this.client.handoff(session, answer.messageId);
        },
      },
      vote,
    );
  }

  /** Stops the event stream (the element left the page). */
  dispose(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}
