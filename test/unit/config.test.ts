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

  it("refuses a REDIS_URL that is not a Redis URL and a HOST that is no address, saying what to use", () => {
    for (const value of ["nonsense", "http://cache:6379", "redis://"]) {
      assert.throws(
        () => loadConfig({ REDIS_URL: value }),
        /Invalid configuration: REDIS_URL: not a Redis URL .*use redis:\/\/HOST:PORT/,
        value,
      );
    }
    for (const value of ["999.1.1.1", "1.2.3", "bad host"]) {
      assert.throws(
        () => loadConfig({ HOST: value }),
        /Invalid configuration: HOST: not an IP address or host name .*use 0\.0\.0\.0/,
        value,
      );
    }
    for (const value of ["0.0.0.0", "127.0.0.1", "::", "::1", "localhost", "gateway-0.internal"]) {
      assert.equal(loadConfig({ HOST: value }).server.host, value);
    }
    assert.equal(
      loadConfig({ REDIS_URL: "rediss://:pw@redis:6380/1" }).redis.url,
      "rediss://:pw@redis:6380/1",
    );
  });

  it("never shows a URL's password in the error", () => {
    assert.throws(
      () => loadConfig({ REDIS_URL: "http://user:hunter2@cache:6379" }),
      (error: unknown) =>
        error instanceof Error && !error.message.includes("hunter2") && error.message.includes("***"),
    );
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
