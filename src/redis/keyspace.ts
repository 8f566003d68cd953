/** What scopes one conversation's keys (structurally a ConversationRef; this folder sits below conversation/). */
export interface ConversationScope {
  channel: string;
  tenant: string;
  conversationKey: string;
}

/**
 * How many hash tags conversations are spread over. Every key of one conversation (context, message
 * records, reply streams, hand-off state) carries its conversation's tag, so each Lua script and MULTI
 * touches one Redis Cluster slot; a small number keeps the gateway's stream readers few on a cluster
 * (one blocking read per tag that has followers), while 16 slots still spread over any cluster's masters.
 */
export const CONVERSATION_SHARDS = 16;

/**
 * The shard (one hex digit) of a conversation: FNV-1a over its scope, a spread not a secret (every key of
 * every message asks, so a cryptographic hash would be wasted work).
 */
export function shardOf(scope: ConversationScope): string {
  let h = 0x811c9dc5;
  for (const part of [scope.channel, scope.tenant, scope.conversationKey]) {
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0, 0x01000193);
  }
  return ((h >>> 0) % CONVERSATION_SHARDS).toString(16);
}

/**
 * The shard carried by an id this keyspace minted (message ids `m<shard>…`, hand-off ids `h<shard>…`), so
 * that a key can be built from the id alone. Ids arrive from clients too (a button's value, an admin URL):
 * one that carries no shard gets a key no minted id has, so it is simply not found.
 */
export function shardOfId(id: string): string {
  const shard = id.charAt(1);
  return /^[0-9a-f]$/.test(shard) ? shard : "x";
}

/**
 * Every Redis key the service writes, built in one place: nobody else formats `${prefix}:...` strings.
 * Keys start with REDIS_PREFIX; conversation-scoped ones carry the hash tag `{<prefix>:c<shard>}` and
 * BullMQ queues share `{<prefix>:bull}` (BullMQ's documented pattern for Redis Cluster).
 */
export class Keyspace {
  readonly prefix: string;

  constructor(prefix: string) {
    if (/[{}]/.test(prefix)) throw new Error("REDIS_PREFIX must not contain { or }");
    this.prefix = prefix;
  }

  #plain(...parts: string[]): string {
    return [this.prefix, ...parts].join(":");
  }

  #tagged(shard: string, ...parts: string[]): string {
    return [this.prefix, `{${this.prefix}:c${shard}}`, ...parts].join(":");
  }

  #conv(scope: ConversationScope, kind: string): string {
    return this.#tagged(shardOf(scope), kind, scope.channel, scope.tenant, scope.conversationKey);
  }

  /** The hash tag of a conversation's keys: what a cluster-aware reader groups by. */
  tagOf(key: string): string | undefined {
    return /\{([^}]+)\}/.exec(key)?.[1];
  }

  // Conversation-scoped (one slot per conversation shard).

  /** The kept turns (a list, oldest first). Written by the ContextStore alone. */
  context(scope: ConversationScope): string {
    return this.#conv(scope, "ctx");
  }

  /** Votes on kept turns (hash: turn id -> vote JSON). Written by the ContextStore alone. */
  contextFeedback(scope: ConversationScope): string {
    return this.#conv(scope, "ctxfb");
  }

  /** The conversation's accepted message ids in answer order (a stream). */
  conversationLog(scope: ConversationScope): string {
    return this.#conv(scope, "convlog");
  }

  /** The conversation's newest accepted message id (what the next one waits for). */
  lastMessage(scope: ConversationScope): string {
    return this.#conv(scope, "last");
  }

  /** A "hand-off already asked for this answer" marker. */
  handoffAsked(scope: ConversationScope, turnId: string): string {
    return this.#tagged(
      shardOf(scope),
      "handoff-asked",
      scope.channel,
      scope.tenant,
      scope.conversationKey,
      turnId,
    );
  }

  /** One message's ledger record (a hash). */
  message(messageId: string): string {
    return this.#tagged(shardOfId(messageId), "msg", messageId);
  }

  /** One message's reply stream (start, tokens, final or error). */
  reply(messageId: string): string {
    return this.#tagged(shardOfId(messageId), "reply", messageId);
  }

  /** A handed-off conversation's state (a hash; its presence silences the bot). */
  handoffState(handoffId: string): string {
    return this.#tagged(shardOfId(handoffId), "handoff-state", handoffId);
  }

  /** What the user wrote while handed off (a list). */
  handoffLog(handoffId: string): string {
    return this.#tagged(shardOfId(handoffId), "handoff-log", handoffId);
  }

  /**
   * The channel (sharded pub/sub) on which every append to a stream of the shard's conversations is
   * published (conversation logs, reply streams): what gateways follow instead of polling streams.
   */
  streamEvents(shard: string): string {
    return this.#tagged(shard, "events");
  }

  /** The events channel of the shard a stream key belongs to. */
  streamEventsOf(key: string): string {
    const shard = /\{[^}]*:c([0-9a-fx])\}/.exec(key)?.[1] ?? "x";
    return this.streamEvents(shard);
  }

  // Global keys (each used alone, so any slot will do).

  /** Open hand-offs by time (a sorted set). */
  handoffsOpen(): string {
    return this.#plain("handoffs", "open");
  }

  /** The pub/sub channel that carries cancellations to whichever worker holds a job. */
  cancelChannel(): string {
    return this.#plain("cancel");
  }

  /** Worker heartbeats (a hash: worker id -> status JSON) and when each was last seen (a sorted set). */
  workers(): { statuses: string; seen: string } {
    const tag = `{${this.prefix}:workers}`;
    return { statuses: this.#plain(tag, "status"), seen: this.#plain(tag, "seen") };
  }

  /** A fixed-window rate counter. */
  rate(scope: string, id: string, window: number): string {
    return this.#plain("rate", scope, id, String(window));
  }

  /** Run-time settings changed through the admin API (a hash). */
  settings(): string {
    return this.#plain("settings");
  }

  /** Analytics events and curator gaps (streams), and the per-gap "already recorded" marker. */
  insights(): { events: string; gaps: string; gapSeen: (reason: string, messageId: string) => string } {
    const tag = `{${this.prefix}:insights}`;
    return {
      events: this.#plain(tag, "events"),
      gaps: this.#plain(tag, "gaps"),
      gapSeen: (reason, messageId) => this.#plain(tag, "gap-seen", reason, messageId),
    };
  }

  /**
   * Everything stored about one user, listed for privacy erasure (a set). Tagged with the insights
   * streams, so that an event and its index entry are written by one script.
   */
  userIndex(channel: string, userId: string): string {
    return this.#plain(`{${this.prefix}:insights}`, "user", channel, userId);
  }

  /** BullMQ's key prefix: one hash tag for every queue's keys. */
  bullPrefix(): string {
    return this.#plain(`{${this.prefix}:bull}`);
  }

  /** A channel's own keys (dedupe markers, sessions), under `<prefix>:<channel>:`. */
  channel(name: string): ChannelKeys {
    return { key: (...parts: string[]) => this.#plain(name, ...parts) };
  }
}

/** The keys one channel adapter may write. */
export interface ChannelKeys {
  key(...parts: string[]): string;
}
