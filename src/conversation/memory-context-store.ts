import type { ContextStore } from "./context-store.ts";
import type { ConversationRef } from "./inbound-message.ts";
import { type Turn, TurnSchema } from "./turn.ts";

const keyOf = (ref: ConversationRef) => `${ref.channel}\u0000${ref.tenant}\u0000${ref.conversationKey}`;

/**
 * The ContextStore contract in memory, kept beside the interface: fast tests of what sits above it run
 * on it, and the shared contract suite (test/contract/context-store-contract.ts) holds both this and the
 * Redis store to the same behaviour. Not for production: one process's memory, no expiry.
 */
export class MemoryContextStore implements ContextStore {
  readonly #turns = new Map<string, Turn[]>();
  readonly #votes = new Map<string, Map<string, NonNullable<Turn["feedback"]>>>();
  /** Stands for the other store `appendRecorded` reads from (key -> field -> JSON). */
  readonly records = new Map<string, Map<string, string>>();

  constructor(readonly maxTurns = 3) {}

  async load(ref: ConversationRef): Promise<Turn[]> {
    const votes = this.#votes.get(keyOf(ref));
    return (this.#turns.get(keyOf(ref)) ?? []).map((t) => {
      const feedback = votes?.get(t.id);
      return feedback ? { ...t, feedback } : { ...t };
    });
  }

  async append(ref: ConversationRef, turn: Turn): Promise<boolean> {
    const { feedback: _, ...stored } = TurnSchema.parse(turn);
    const list = this.#turns.get(keyOf(ref)) ?? [];
    if (list.some((t) => t.id === turn.id)) return false;
    if (this.maxTurns <= 0) {
      this.#turns.delete(keyOf(ref));
      this.#votes.delete(keyOf(ref));
      return true;
    }
    list.push(stored);
    this.#turns.set(keyOf(ref), list.slice(-this.maxTurns));
    return true;
  }

  async appendRecorded(
    ref: ConversationRef,
    _turnId: string,
    source: { key: string; field: string },
  ): Promise<boolean> {
    const raw = this.records.get(source.key)?.get(source.field);
    if (raw === undefined) return false;
    return this.append(ref, TurnSchema.parse(JSON.parse(raw)));
  }

  async setFeedback(
    ref: ConversationRef,
    turnId: string,
    feedback: NonNullable<Turn["feedback"]>,
  ): Promise<boolean> {
    if (!(this.#turns.get(keyOf(ref)) ?? []).some((t) => t.id === turnId)) return false;
    const votes = this.#votes.get(keyOf(ref)) ?? new Map();
    votes.set(turnId, feedback);
    this.#votes.set(keyOf(ref), votes);
    return true;
  }

  async clear(ref: ConversationRef): Promise<void> {
    this.#turns.delete(keyOf(ref));
    this.#votes.delete(keyOf(ref));
  }
}
