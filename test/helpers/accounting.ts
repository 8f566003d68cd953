import type { Redis } from "ioredis";
import { Keyspace } from "../../src/redis/keyspace.ts";
import type { SseEvent } from "./webchat-client.ts";

/**
 * Counts what became of every accepted message in a run, from the authoritative record: each
 * message's reply stream in Redis (the keyspace's `reply` key), where the ledger writes exactly one
 * terminal entry (`final` or `error`). A message is
 * - answered: one `final` entry and no `error`;
 * - failed: one `error` entry (timeout, cancelled, inference_failed...) and no `final`;
 * - duplicated: more than one terminal entry, or its turn stored twice in the conversation context,
 *   or a client saw two different terminal events for it;
 * - lost: no terminal entry at all.
 * Refusals (429 busy / rate_limited, 4xx) were never accepted and are counted apart.
 */
export interface AccountingReport {
  accepted: number;
  answered: number;
  failed: number;
  duplicated: number;
  lost: number;
  refused: number;
  /** Failure replies by error code. */
  failures: Record<string, number>;
  /** Refusals by error code (busy, rate_limited, ...). */
  refusals: Record<string, number>;
  /** Message ids that were lost or duplicated, for the assertion message. */
  problems: string[];
}

interface Accepted {
  messageId: string;
  /** The conversation context key (see src/redis/keyspace.ts), if known. */
  contextKey?: string;
}

export class Accounting {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #accepted = new Map<string, Accepted>();
  readonly #refusals: Record<string, number> = {};
  /** Distinct terminal SSE event ids a client saw, per message. */
  readonly #seen = new Map<string, Set<string>>();

  /** @param redis any client on the run's Redis; @param prefix the run's REDIS_PREFIX. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#keys = new Keyspace(prefix);
  }

  get acceptedIds(): string[] {
    return [...this.#accepted.keys()];
  }

  /** Records an accepted message; a duplicate acceptance of the same id is one message. */
  accept(
    messageId: string,
    conversation?: { channel: string; tenant: string; conversationKey: string },
  ): void {
    const contextKey = conversation ? this.#keys.context(conversation) : undefined;
    this.#accepted.set(messageId, { messageId, ...(contextKey ? { contextKey } : {}) });
  }

  /** Records a web chat message accepted with 202, or a refusal (any other status) by its error code. */
  async acceptWebchat(res: Response, conversationId: string, tenant = "web"): Promise<string | undefined> {
    const body = (await res.json()) as { messageId?: string; error?: { code?: string } };
    if (res.status === 202 && body.messageId) {
      this.accept(body.messageId, { channel: "webchat", tenant, conversationKey: conversationId });
      return body.messageId;
    }
    this.refuse(body.error?.code ?? `http_${res.status}`);
    return undefined;
  }

  refuse(code: string): void {
    this.#refusals[code] = (this.#refusals[code] ?? 0) + 1;
  }

  /** Feeds the events a client received; two different `reply`/`error` events for one message count as a duplicate. */
  observe(events: SseEvent[]): void {
    for (const e of events) {
      if (e.event !== "reply" && e.event !== "error") continue;
      const id = String(e.data.messageId ?? "");
      const seen = this.#seen.get(id) ?? new Set<string>();
      // Without an event id, the payload stands for it (a resumed stream repeats the same id).
      seen.add(e.id ?? JSON.stringify(e.data));
      this.#seen.set(id, seen);
    }
  }

  /**
   * Polls until every accepted message has a terminal entry or `timeoutMs` passes; then audits. The
   * counts go to stderr (the test runner shows them with the test), for the record of a run.
   */
  async settle(timeoutMs = 30_000, pollMs = 100): Promise<AccountingReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const report = await this.audit();
      if (report.lost === 0 || Date.now() >= deadline) {
        process.stderr.write(`accounting: ${formatReport(report)}\n`);
        return report;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Reads every accepted message's reply stream and conversation context and counts outcomes. */
  async audit(): Promise<AccountingReport> {
    const report: AccountingReport = {
      accepted: this.#accepted.size,
      answered: 0,
      failed: 0,
      duplicated: 0,
      lost: 0,
      refused: Object.values(this.#refusals).reduce((a, b) => a + b, 0),
      failures: {},
      refusals: { ...this.#refusals },
      problems: [],
    };
    const turnCounts = await this.#turnCounts();
    for (const { messageId } of this.#accepted.values()) {
      const entries = await this.#redis.xrange(this.#keys.reply(messageId), "-", "+");
      let finals = 0;
      const errors: string[] = [];
      for (const [, fields] of entries) {
        const t = fieldOf(fields, "t");
        if (t === "final") finals += 1;
        else if (t === "error") errors.push(String(JSON.parse(fieldOf(fields, "d") ?? "{}").code));
      }
      const terminal = finals + errors.length;
      const doubledTurn = (turnCounts.get(messageId) ?? 0) > 1;
      const doubledClient = (this.#seen.get(messageId)?.size ?? 0) > 1;
      if (terminal > 1 || doubledTurn || doubledClient) {
        report.duplicated += 1;
        report.problems.push(`duplicated ${messageId} (terminal entries ${terminal})`);
      } else if (terminal === 0) {
        report.lost += 1;
        report.problems.push(`lost ${messageId}`);
      } else if (finals === 1) {
        report.answered += 1;
      } else {
        report.failed += 1;
        const code = errors[0] ?? "unknown";
        report.failures[code] = (report.failures[code] ?? 0) + 1;
      }
    }
    return report;
  }

  /** How often each message id appears among the turns kept in the conversations' contexts. */
  async #turnCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const keys = new Set([...this.#accepted.values()].flatMap((a) => (a.contextKey ? [a.contextKey] : [])));
    for (const key of keys) {
      for (const raw of await this.#redis.lrange(key, 0, -1)) {
        const id = String((JSON.parse(raw) as { id?: string }).id);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    return counts;
  }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** One line for logs and benchmark output. */
export function formatReport(r: AccountingReport): string {
  const failures = Object.entries(r.failures)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const refusals = Object.entries(r.refusals)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return (
    `accepted=${r.accepted} answered=${r.answered} failed=${r.failed}${failures ? ` (${failures})` : ""} ` +
    `duplicated=${r.duplicated} lost=${r.lost} refused=${r.refused}${refusals ? ` (${refusals})` : ""}`
  );
}

/** Deletes every key under a test prefix. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}
