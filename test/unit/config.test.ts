import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig({});
    assert.equal(config.server.port, 3000);
    assert.equal(config.redis.url, "redis://127.0.0.1:6379");
    assert.equal(config.redis.explicit, false);
    assert.equal(config.conversation.historyTurns, 3);
    assert.equal(config.conversation.maxMessageChars, 4000);
    assert.equal(config.knowledge.dir, "./knowledge");
    assert.equal(config.llm.modelPath, undefined);
  });

  it("stops with one line naming the bad variable", () => {
    assert.throws(
      () => loadConfig({ PORT: "eighty" }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^Invalid configuration: PORT: /.test(error.message) &&
        !error.message.includes("\n"),
    );
    assert.throws(() => loadConfig({ HISTORY_TURNS: "-1" }), /HISTORY_TURNS/);
    assert.throws(() => loadConfig({ LLM_SEQUENCES: "0" }), /LLM_SEQUENCES/);
  });

  it("never echoes a secret's value in the error", () => {
    assert.throws(
      () => loadConfig({ WEBCHAT_TOKEN_TTL_SECONDS: "1", SLACK_SIGNING_SECRET: "s3cr3t" }),
      (error: unknown) => error instanceof Error && !error.message.includes("s3cr3t"),
    );
  });

  it("parses lists and booleans", () => {
    const config = loadConfig({
      WEBCHAT_ALLOWED_ORIGINS: "https://a.example, https://b.example",
      LOG_CONTENT: "yes",
    });
    assert.deepEqual(config.webchat.allowedOrigins, ["https://a.example", "https://b.example"]);
    assert.equal(config.log.content, true);
  });
});
