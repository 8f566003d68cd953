import { createHash } from "node:crypto";
import type { Conversations, ReplySink, Submission } from "../../src/conversation/conversations.ts";
import type { InboundMessage } from "../../src/conversation/inbound-message.ts";
import type { Turn } from "../../src/conversation/turn.ts";
import type { Citation } from "../../src/knowledge/citation.ts";

/**
 * A Conversations port for adapter unit tests: it dedupes on channel + tenant + platform message id as
 * the real manager does, and answers every message by streaming a scripted reply word by word.
 */
export class ScriptedConversations implements Conversations {
  readonly submitted: InboundMessage[] = [];
  private readonly accepted = new Map<string, InboundMessage>();
  private readonly answered: Turn[] = [];

  constructor(
    private readonly script: {
      answer: (message: InboundMessage) => string;
      citations?: Citation[];
      /** Time the message "waits in the queue" before its answer starts. @defaultValue 0 */
      queueDelayMs?: number;
      /** Pause between words. @defaultValue 20 */
      chunkDelayMs?: number;
      /** Conversations with a person: submit enqueues nothing and says so, as the real gate does. */
      handedOff?: (message: InboundMessage) => boolean;
    },
  ) {}

  async submit(message: InboundMessage): Promise<Submission> {
    const messageId = createHash("sha256")
      .update(`${message.channel}\n${message.tenant}\n${message.platformMessageId}`)
      .digest("hex")
      .slice(0, 32);
    if (this.script.handedOff?.(message)) return { messageId, duplicate: false, handedOff: true };
    const duplicate = this.accepted.has(messageId);
    if (!duplicate) {
      this.accepted.set(messageId, message);
      this.submitted.push(message);
    }
    return { messageId, duplicate };
  }

  async follow(messageId: string, sink: ReplySink): Promise<void> {
    const message = this.accepted.get(messageId);
    if (!message) {
      await sink.onError({ messageId, code: "not_found", message: "unknown message" });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, this.script.queueDelayMs ?? 0));
    await sink.onStart?.();
    const text = this.script.answer(message);
    for (const word of text.split(/(?<= )/)) {
      await new Promise((resolve) => setTimeout(resolve, this.script.chunkDelayMs ?? 20));
      await sink.onChunk(word);
    }
    const citations = this.script.citations ?? [];
    this.answered.push({ id: messageId, question: message.text, answer: text, citations, at: Date.now() });
    await sink.onFinal({ messageId, text, citations, kind: "answer" });
  }

  async turns(ref: Parameters<Conversations["turns"]>[0]): Promise<Turn[]> {
    return this.answered.filter((t) => this.accepted.get(t.id)?.conversationKey === ref.conversationKey);
  }

  async cancel(): Promise<void> {}

  async conversationOf(messageId: string): Promise<string | undefined> {
    return this.accepted.get(messageId)?.conversationKey;
  }

  /** Not used by the Teams adapter; lists what is already accepted and never anything later. */
  watch(
    ref: Parameters<Conversations["watch"]>[0],
    _after: string,
    onMessage: Parameters<Conversations["watch"]>[2],
  ): () => void {
    let n = 0;
    for (const [id, m] of this.accepted) {
      n += 1;
      if (m.conversationKey === ref.conversationKey) onMessage({ messageId: id, logId: String(n) });
    }
    return () => {};
  }
}
