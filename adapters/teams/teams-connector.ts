import type { Activity, CloudAdapter, ConversationReference } from "botbuilder";
import { DeliveryRefusedError, DeliveryRetryError } from "../../src/delivery/delivery-queue.ts";
import { retryAfterMs } from "../../src/delivery/retry-after.ts";

/**
 * Statuses the connector uses for "not now": 429 throttling (Teams allows about one message per second
 * per conversation), 412 when a concurrent operation holds the conversation, 5xx from its gateways.
 * Anything else (400, 401, 403, 404) will fail the same way again.
 */
const RETRYABLE = new Set([408, 412, 429, 500, 502, 503, 504]);

/** What a failed connector call tells us: its HTTP status and Retry-After, when it had one. */
export function describeSendError(error: unknown): { status?: number; retryAfterMs?: number } {
  const e = error as {
    statusCode?: unknown;
    status?: unknown;
    response?: { status?: unknown; headers?: { get?: (name: string) => string | undefined } };
  };
  const raw = e?.statusCode ?? e?.status ?? e?.response?.status;
  const status = typeof raw === "number" ? raw : undefined;
  const wait = retryAfterMs(e?.response?.headers?.get?.("retry-after"));
  return {
    ...(status === undefined ? {} : { status }),
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
  };
}

/**
 * What a failed send means for its delivery job: refused for good (a dead letter at once), or worth
 * another attempt after at least the connector's Retry-After. A call with no status (the connector could
 * not be reached) is retried.
 */
export function teamsDeliveryError(error: unknown): Error {
  const { status, retryAfterMs: wait } = describeSendError(error);
  const detail = `${status ?? "no status"}: ${(error as Error)?.message ?? String(error)}`;
  if (status !== undefined && !RETRYABLE.has(status)) {
    return new DeliveryRefusedError(`The Teams connector refused the activity for good (${detail}).`);
  }
  return new DeliveryRetryError(`The Teams connector did not take the activity (${detail}).`, {
    retryAfterMs: wait,
    cause: error,
  });
}

/**
 * Sends activities into a Teams conversation proactively (conversation reference +
 * continueConversationAsync), since the inbound request was acknowledged long before the answer is
 * ready. One call is one try of the SDK's own HTTP pipeline (which retries throttling and gateway errors
 * a few times itself); what fails past that is retried by the delivery queue that called it.
 */
export class TeamsConnector {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
  ) {}

  /** Sends one activity; returns the id the connector gave it. Throws the SDK's error as is. */
  async send(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string> {
    let id = "";
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      const response = await context.sendActivity(activity);
      id = response?.id ?? "";
    });
    return id;
  }
}
