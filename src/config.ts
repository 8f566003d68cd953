import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

/**
 * The one place that reads `process.env`. Every setting is an environment variable (optionally also
 * given in a JSON or YAML file named by `CONFIG_FILE`; the environment wins). Parsed once at start-up;
 * a bad value stops the process with one line that names the variable.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((v) => v === "true" || v === "1" || v === "yes" || v === "on");
const list = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/**
 * HOST: an IP address or a host name. A dotted number that is no IPv4 address (999.1.1.1) is a typo that
 * would otherwise surface as a DNS error from deep inside `listen`.
 */
const host = z
  .string()
  .min(1)
  .refine(
    (v) => isIP(v) !== 0 || (!/^[\d.]+$/.test(v) && /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(v)),
    "not an IP address or host name",
  );

/** REDIS_URL: ioredis reads anything else as a host name and fails later with a DNS error. */
const redisUrl = optionalString.refine((v) => {
  if (v === undefined) return true;
  try {
    const url = new URL(v);
    return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "";
  } catch {
    return false;
  }
}, "not a Redis URL");

/** What to do about a bad value, where the schema's message alone does not say it. */
const hints: Partial<Record<string, string>> = {
  HOST: "use 0.0.0.0 (every interface), 127.0.0.1 (this machine only) or one of this machine's addresses",
  REDIS_URL: "use redis://HOST:PORT (rediss:// for TLS), e.g. redis://127.0.0.1:6379",
};

const defaultThreads = Math.max(1, Math.min(8, availableParallelism() - 1));

/** Flat schema over the variable names, so that an error names exactly the variable to fix. */
const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: host.default("0.0.0.0"),
  PUBLIC_URL: optionalString,
  /** A worker's own /healthz and /readyz (orchestrator probes); unset: not served. */
  WORKER_HEALTH_PORT: int(0, 65535).optional(),
  REDIS_URL: redisUrl,
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only")
    .default("sgw"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_CONTENT: bool.default(false),

  MODEL_PATH: optionalString,
  LLM_GPU: z.enum(["auto", "cuda", "vulkan", "metal", "false"]).default("auto"),
  LLM_THREADS: int(1, 256).default(defaultThreads),
  LLM_CONTEXT_SIZE: int(256, 1_048_576).default(4096),
  LLM_SEQUENCES: int(1, 256).default(4),
  LLM_BATCH_SIZE: int(16, 65_536).optional(),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.2),
  MAX_ANSWER_TOKENS: int(1, 32_768).default(512),
  LLM_IGNORE_EOS: bool.default(false),
  ANSWER_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  ENGINE: z.enum(["auto", "llama", "native", "fake"]).default("auto"),
  NATIVE_ENGINE_BIN: optionalString,
  NATIVE_KV_UNIFIED: bool.default(false),
  NATIVE_PREFIX_CACHE: bool.default(true),
  FAKE_ENGINE_TOKEN_MS: int(0, 60_000).default(10),
  FAKE_ENGINE_FIRST_TOKEN_MS: int(0, 600_000).default(50),

  HISTORY_TURNS: int(0, 50).default(3),
  CONTEXT_TTL_SECONDS: int(60, 31_536_000).default(7 * 24 * 3600),
  MAX_MESSAGE_CHARS: int(1, 100_000).default(4000),
  DEDUPE_TTL_SECONDS: int(60, 31_536_000).default(24 * 3600),

  QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("answers"),
  QUEUE_MAX_DEPTH: int(1, 10_000_000).default(1000),
  /** How long an accepted message may wait for a worker before it ends with an `unavailable` error. */
  QUEUE_WAIT_MS: int(1000, 86_400_000).default(30_000),
  WORKER_LOCK_MS: int(500, 3_600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(200, 3_600_000).default(15_000),
  SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(30_000),

  RATE_LIMIT_USER_PER_MINUTE: int(0, 1_000_000).default(20),
  RATE_LIMIT_TENANT_PER_MINUTE: int(0, 10_000_000).default(600),
  RATE_LIMIT_IP_PER_MINUTE: int(0, 1_000_000).default(60),

  KNOWLEDGE_DIR: z.string().min(1).default("./knowledge"),
  KNOWLEDGE_WATCH: bool.default(true),
  EMBEDDING_MODEL_PATH: optionalString,
  KNOWLEDGE_WORD_VECTORS: bool.default(false),
  /** A directory where the knowledge index is persisted, so that a restart re-reads only changed files. */
  KNOWLEDGE_INDEX_CACHE: optionalString,
  RETRIEVAL_TOKEN_BUDGET: int(64, 100_000).default(1200),
  RETRIEVAL_MIN_SCORE: z.coerce.number().min(0).default(0),
  /** The confidence (0..1) an answer needs from the answerability decision; higher abstains more. */
  RETRIEVAL_CAUTION: z.coerce.number().min(0).max(1).default(0.5),
  /**
   * Tenants with knowledge of their own, as JSON: `{"shop": "./knowledge/shop", "slack:T0123": "/srv/kb-acme"}`.
   * A key is a tenant id (web-chat site id, Slack team id, Teams tenant id), optionally prefixed with
   * its channel; the folder may be a subfolder of KNOWLEDGE_DIR, which other tenants then do not see.
   */
  KNOWLEDGE_TENANTS: z
    .string()
    .default("{}")
    .transform((v, ctx) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be a JSON object of {"tenant": "folder"}' });
        return z.NEVER;
      }
    })
    .pipe(
      z.record(
        z
          .string()
          .regex(/^([a-z]+:)?[^:\s]{1,200}$/, "tenant keys: an id, optionally prefixed with its channel"),
        z.string().min(1, "folder must not be empty"),
      ),
    ),

  WEBCHAT_TOKEN_SECRET: optionalString,
  WEBCHAT_TOKEN_TTL_SECONDS: int(60, 31_536_000).default(24 * 3600),
  WEBCHAT_ALLOWED_ORIGINS: list.default([]),
  WEBCHAT_IDENTITY_SECRET: optionalString,
  WEBCHAT_REQUIRE_IDENTITY: bool.default(false),
  /**
   * Further sites embedding the widget, each with its own origins and identity secret, as JSON:
   * `[{"id":"shop","origins":["https://shop.example"],"identitySecret":"...","requireIdentity":true}]`.
   * The site id becomes the conversations' tenant; "web" is the site of the WEBCHAT_* settings above.
   */
  WEBCHAT_SITES: z
    .string()
    .default("[]")
    .transform((v, ctx) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON array of sites" });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .array(
          z.object({
            id: z
              .string()
              .regex(/^[A-Za-z0-9_.-]{1,64}$/, "site id: letters, digits, '_', '.', '-' only")
              .refine((id) => id !== "web", 'site id "web" is the default site; pick another'),
            origins: z.array(z.string().min(1)).min(1),
            identitySecret: z.string().min(16).optional(),
            requireIdentity: z.boolean().default(false),
            /** This site's own knowledge folder (or a subfolder of KNOWLEDGE_DIR); retrieval never leaves it. */
            knowledge: z.string().min(1).optional(),
          }),
        )
        .refine((sites) => new Set(sites.map((s) => s.id)).size === sites.length, "site ids must be unique"),
    ),

  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString,
  SLACK_SOCKET_MODE: bool.default(false),
  SLACK_HANDOFF_CHANNEL: optionalString,

  MICROSOFT_APP_ID: optionalString,
  MICROSOFT_APP_PASSWORD: optionalString,
  MICROSOFT_APP_TENANT_ID: optionalString,
  MICROSOFT_APP_TYPE: z.enum(["MultiTenant", "SingleTenant"]).default("MultiTenant"),
  TEAMS_ALLOWED_TENANTS: list.default([]),
  // Microsoft's own bot hosts only: *.trafficmanager.net is any Azure customer's to register.
  TEAMS_SERVICE_URL_ALLOWLIST: list.default([
    "smba.trafficmanager.net",
    "*.botframework.com",
    "*.teams.microsoft.com",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
  ]),
  TEAMS_HANDOFF_CONVERSATION: optionalString,

  HANDOFF_WEBHOOK_URL: optionalString,
  HANDOFF_WEBHOOK_SECRET: optionalString,
  /** Delivery attempts before a webhook handoff is given up (exponential backoff between them). */
  HANDOFF_WEBHOOK_ATTEMPTS: int(1, 1000).default(30),
  HANDOFF_WEBHOOK_BACKOFF_MS: int(10, 3_600_000).default(2000),
  HANDOFF_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** What the user is told once a person has been asked (admins can change it at run time). */
  HANDOFF_MESSAGE: z
    .string()
    .min(1)
    .max(1000)
    .default(
      "I've asked a person from our support team to take over. They will reply here; until then I'll stay quiet.",
    ),
  ADMIN_TOKENS: list.default([]),
  RETENTION_DAYS: int(1, 3650).default(90),
  /** Extra redaction patterns for recorded questions: a JSON array of regular-expression sources. */
  REDACT_PATTERNS: z
    .string()
    .default("[]")
    .transform((v, ctx) => {
      try {
        const parsed = JSON.parse(v) as unknown;
        if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string"))
          throw new Error("not strings");
        for (const source of parsed) new RegExp(source, "g");
        return parsed as string[];
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON array of valid regular expressions" });
        return z.NEVER;
      }
    }),
});

export type Env = z.input<typeof envSchema>;
type Parsed = z.output<typeof envSchema>;

export type Config = ReturnType<typeof shape>;

function shape(e: Parsed) {
  return {
    server: { port: e.PORT, host: e.HOST, publicUrl: e.PUBLIC_URL, workerHealthPort: e.WORKER_HEALTH_PORT },
    redis: {
      url: e.REDIS_URL ?? "redis://127.0.0.1:6379",
      /** False when REDIS_URL was not given: start-up may then launch a private redis-server. */
      explicit: e.REDIS_URL !== undefined,
      prefix: e.REDIS_PREFIX,
    },
    log: { level: e.LOG_LEVEL, content: e.LOG_CONTENT },
    llm: {
      engine: e.ENGINE,
      modelPath: e.MODEL_PATH,
      gpu: e.LLM_GPU === "false" ? (false as const) : e.LLM_GPU,
      threads: e.LLM_THREADS,
      contextSize: e.LLM_CONTEXT_SIZE,
      sequences: e.LLM_SEQUENCES,
      batchSize: e.LLM_BATCH_SIZE,
      temperature: e.LLM_TEMPERATURE,
      maxAnswerTokens: e.MAX_ANSWER_TOKENS,
      /** Always generate maxAnswerTokens (benchmarks and fault tests need answers of a known length). */
      ignoreEos: e.LLM_IGNORE_EOS,
      answerTimeoutMs: e.ANSWER_TIMEOUT_MS,
      /** The batch-engine executable for ENGINE=native (src/inference/native/build.sh). */
      nativeEngineBin: e.NATIVE_ENGINE_BIN,
      /** One KV buffer shared by all sequences (ENGINE=native); off gives each sequence its own. */
      nativeKvUnified: e.NATIVE_KV_UNIFIED,
      /** Finished sequences keep their KV cells for the next prompt with the same prefix (ENGINE=native). */
      nativePrefixCache: e.NATIVE_PREFIX_CACHE,
      /** ENGINE=fake (load tests of the service itself): the pace of its deterministic filler. */
      fakeTokenMs: e.FAKE_ENGINE_TOKEN_MS,
      fakeFirstTokenMs: e.FAKE_ENGINE_FIRST_TOKEN_MS,
    },
    conversation: {
      historyTurns: e.HISTORY_TURNS,
      contextTtlSeconds: e.CONTEXT_TTL_SECONDS,
      maxMessageChars: e.MAX_MESSAGE_CHARS,
      dedupeTtlSeconds: e.DEDUPE_TTL_SECONDS,
    },
    queue: {
      name: e.QUEUE_NAME,
      maxDepth: e.QUEUE_MAX_DEPTH,
      waitMs: e.QUEUE_WAIT_MS,
      lockMs: e.WORKER_LOCK_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    },
    rateLimit: {
      userPerMinute: e.RATE_LIMIT_USER_PER_MINUTE,
      tenantPerMinute: e.RATE_LIMIT_TENANT_PER_MINUTE,
      ipPerMinute: e.RATE_LIMIT_IP_PER_MINUTE,
    },
    knowledge: {
      dir: e.KNOWLEDGE_DIR,
      watch: e.KNOWLEDGE_WATCH,
      embeddingModelPath: e.EMBEDDING_MODEL_PATH,
      /** Offline word vectors fused with BM25 when no embedding model is given (~150 MB of memory). */
      wordVectors: e.KNOWLEDGE_WORD_VECTORS,
      indexCache: e.KNOWLEDGE_INDEX_CACHE,
      tokenBudget: e.RETRIEVAL_TOKEN_BUDGET,
      minScore: e.RETRIEVAL_MIN_SCORE,
      caution: e.RETRIEVAL_CAUTION,
      /** Tenant key (`id` or `channel:id`) -> folder: KNOWLEDGE_TENANTS plus WEBCHAT_SITES' `knowledge`. */
      tenants: {
        ...Object.fromEntries(
          e.WEBCHAT_SITES.flatMap((site) => (site.knowledge ? [[`webchat:${site.id}`, site.knowledge]] : [])),
        ),
        ...e.KNOWLEDGE_TENANTS,
      } as Record<string, string>,
    },
    webchat: {
      tokenSecret: e.WEBCHAT_TOKEN_SECRET,
      tokenTtlSeconds: e.WEBCHAT_TOKEN_TTL_SECONDS,
      allowedOrigins: e.WEBCHAT_ALLOWED_ORIGINS,
      identitySecret: e.WEBCHAT_IDENTITY_SECRET,
      requireIdentity: e.WEBCHAT_REQUIRE_IDENTITY,
      sites: e.WEBCHAT_SITES,
    },
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
      socketMode: e.SLACK_SOCKET_MODE,
      handoffChannel: e.SLACK_HANDOFF_CHANNEL,
    },
    teams: {
      appId: e.MICROSOFT_APP_ID,
      appPassword: e.MICROSOFT_APP_PASSWORD,
      appTenantId: e.MICROSOFT_APP_TENANT_ID,
      appType: e.MICROSOFT_APP_TYPE,
      allowedTenants: e.TEAMS_ALLOWED_TENANTS,
      serviceUrlAllowlist: e.TEAMS_SERVICE_URL_ALLOWLIST,
      handoffConversation: e.TEAMS_HANDOFF_CONVERSATION,
    },
    handoff: {
      webhookUrl: e.HANDOFF_WEBHOOK_URL,
      webhookSecret: e.HANDOFF_WEBHOOK_SECRET,
      webhookAttempts: e.HANDOFF_WEBHOOK_ATTEMPTS,
      webhookBackoffMs: e.HANDOFF_WEBHOOK_BACKOFF_MS,
      webhookTimeoutMs: e.HANDOFF_WEBHOOK_TIMEOUT_MS,
      message: e.HANDOFF_MESSAGE,
    },
    admin: { tokens: e.ADMIN_TOKENS, retentionDays: e.RETENTION_DAYS },
    insights: { redactPatterns: e.REDACT_PATTERNS },
  };
}

/** Names of every variable the schema knows, for documentation and for tests. */
export const configVariables = Object.keys(envSchema.shape) as (keyof Env)[];

function readConfigFile(path: string): Record<string, string> {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${path} (${(error as Error).message})`);
  }
  let data: unknown;
  try {
    data = path.endsWith(".json") ? JSON.parse(raw) : parseYaml(raw);
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE: ${path} is not valid JSON or YAML (${(error as Error).message})`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(`CONFIG_FILE: ${path} must hold one object of VARIABLE: value pairs`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    out[key] = Array.isArray(value) ? value.join(",") : String(value);
  }
  return out;
}

/** A value as an error line may show it: a URL's password never appears. */
function shownValue(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = "***";
      return url.toString();
    }
  } catch {
    // not a URL: shown as it is
  }
  return value;
}

/**
 * Parses the environment (and `CONFIG_FILE`, if set) into a typed Config.
 * @throws ConfigError with one line naming the first bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const fromFile = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const key of configVariables) {
    const value = env[key];
    if (value !== undefined) merged[key] = value;
  }
  const unknown = Object.keys(fromFile).filter((k) => !(configVariables as string[]).includes(k));
  if (unknown.length > 0) throw new ConfigError(`CONFIG_FILE: unknown setting ${unknown[0]}`);
  const result = envSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? "configuration");
    const got = merged[name];
    const shown =
      got === undefined || /SECRET|TOKEN|PASSWORD|SITES/.test(name) ? "" : ` (got "${shownValue(got)}")`;
    const where =
      name in fromFile && env[name] === undefined ? `in ${env.CONFIG_FILE}` : "in the environment";
    throw new ConfigError(
      `Invalid configuration: ${name}: ${issue?.message ?? "invalid"}${shown}. Fix ${name} ${where}` +
        (hints[name] ? `: ${hints[name]}.` : " and start again."),
    );
  }
  return shape(result.data);
}

/** Config for tests and tools: defaults plus the given overrides, never the process environment. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(overrides);
}
