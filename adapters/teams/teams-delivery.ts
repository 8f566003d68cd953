import type { Activity, CloudAdapter, ConversationReference, TurnContext } from "botbuilder";
import { ErrorCode, GatewayError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";

/** How sends to the connector are retried. */
export interface DeliveryRetryOptions {
  /** Tries per activity, the first included. @defaultValue 5 */
  maxAttempts?: number;
  /** First back-off; each retry doubles it. @defaultValue 500 */
  baseDelayMs?: number;
  /** Longest single wait (also caps a Retry-After). @defaultValue 30000 */
  maxDelayMs?: number;
}

/**
 * Statuses the connector uses for "not now": 429 throttling (Teams allows about one message per second
 * per conversation), 412 when a concurrent operation holds the conversation, 502/504 from its gateways.
 * Anything else (400, 401, 403, 404) will fail the same way again.
 */
const retryableStatuses = new Set([412, 429, 502, 504]);

/** What a failed connector call tells us: its HTTP status and Retry-After, when it had one. */
export function describeSendError(error: unknown): { status?: number; retryAfterMs?: number } {
  const e = error as {
    statusCode?: unknown;
    status?: unknown;
    response?: { status?: unknown; headers?: { get?: (name: string) => string | undefined } };
  };
  const raw = e?.statusCode ?? e?.status ?? e?.response?.status;
  const status = typeof raw === "number" ? raw : undefined;
  const header = e?.response?.headers?.get?.("retry-after");
  const seconds = header === undefined ? Number.NaN : Number(header);
  return {
    ...(status === undefined ? {} : { status }),
    ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}),
  };
}

/** Exponential back-off with "equal jitter": half the step fixed, half random, so retries spread out. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends activities into a Teams conversation proactively (conversation reference +
 * continueConversationAsync), because the inbound request was acknowledged long before the answer is
 * ready. This is the one place where connector calls are retried.
 */
export class TeamsDelivery {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly logger: Logger,
    { maxAttempts = 5, baseDelayMs = 500, maxDelayMs = 30_000 }: DeliveryRetryOptions = {},
  ) {
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
  }

  /**
   * Sends one activity; with `retry` (the default) a throttled or gateway-failed call is retried with
   * jittered back-off, honouring Retry-After. Returns the id the connector gave the activity.
   * @throws GatewayError delivery_failed when the connector refused it for good.
   */
  async send(
    reference: Partial<ConversationReference>,
    activity: Partial<Activity>,
    { retry = true }: { retry?: boolean } = {},
  ): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce(reference, activity);
      } catch (error) {
        const { status, retryAfterMs } = describeSendError(error);
        const retryable = status !== undefined && retryableStatuses.has(status);
        if (!retry || !retryable || attempt >= this.maxAttempts) {
          throw new GatewayError(
            ErrorCode.DeliveryFailed,
            `Teams connector refused a ${activity.type ?? "message"} activity (${status ?? "no status"}: ${
              (error as Error).message
            }); it will be retried from the outbox if it was an answer.`,
            { cause: error },
          );
        }
        const backoff = backoffDelay(attempt, this.baseDelayMs, this.maxDelayMs);
        const wait = Math.min(this.maxDelayMs, Math.max(backoff, retryAfterMs ?? 0));
        this.logger.warn(
          { conversationId: reference.conversation?.id, status, attempt, waitMs: Math.round(wait) },
          "teams connector asked to retry",
        );
        await sleep(wait);
      }
    }
  }

  private async sendOnce(
    reference: Partial<ConversationReference>,
    activity: Partial<Activity>,
  ): Promise<string> {
    let id = "";
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      disableSdkRetries(context);
      const response = await context.sendActivity(activity);
      id = response?.id ?? "";
    });
    return id;
  }
}

/**
 * The connector client's HTTP pipeline has its own retry policy (3 tries, Retry-After only when present,
 * 5xx but not 412). Removing it keeps one retry policy, ours, instead of two multiplying each other.
 */
function disableSdkRetries(context: TurnContext): void {
  // The pipeline is not on ConnectorClient's public type; this is the @azure/core-client ServiceClient inside it.
  const connector = context.turnState.get(context.adapter.ConnectorClientKey) as
    | { client?: { pipeline?: { removePolicy(options: { phase: string }): unknown } } }
    | undefined;
  connector?.client?.pipeline?.removePolicy({ phase: "Retry" });
}
