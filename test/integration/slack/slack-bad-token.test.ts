import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { startHarness } from "../../helpers/harness.ts";

describe("Slack with a token Slack rejects", () => {
  it("keeps the gateway up and says so in the log instead of crashing", async () => {
    // A Web API that refuses every token, as Slack does with invalid_auth.
    const api = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: false, error: "invalid_auth" }));
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const h = await startHarness({
      worker: false,
      env: {
        SLACK_BOT_TOKEN: "xoxb-wrong",
        SLACK_SIGNING_SECRET: "secret",
        SLACK_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/`,
      },
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await fetch(`${h.baseUrl}/healthz`)).status, 200);
      assert.deepEqual(rejections, []);
    } finally {
      process.off("unhandledRejection", onRejection);
      await h.stop();
      api.close();
    }
  });
});
