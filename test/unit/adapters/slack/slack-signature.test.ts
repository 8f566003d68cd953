import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { slackSignature, verifySlackSignature } from "../../../../adapters/slack/slack-signature.ts";
import { ErrorCode, GatewayError } from "../../../../src/errors.ts";

const secret = "8f742231b10e8888abcd99yyyzzz85a5";
// Slack's documented example: this body, timestamp and secret give this signature.
const docBody =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const docTs = "1531420618";
const docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const unauthorized = (error: unknown) =>
  error instanceof GatewayError && error.code === ErrorCode.Unauthorized;

describe("verifySlackSignature", () => {
  it("computes Slack's documented example signature", () => {
    assert.equal(slackSignature(secret, docTs, docBody), docSignature);
  });

  it("accepts a correctly signed request within five minutes", () => {
    verifySlackSignature({
      signingSecret: secret,
      timestamp: docTs,
      signature: docSignature,
      rawBody: Buffer.from(docBody),
      nowSeconds: Number(docTs) + 299,
    });
  });

  it("refuses a changed body, a wrong secret and a missing header", () => {
    const base = { timestamp: docTs, signature: docSignature, nowSeconds: Number(docTs) };
    assert.throws(
      () => verifySlackSignature({ ...base, signingSecret: secret, rawBody: Buffer.from(`${docBody}x`) }),
      unauthorized,
    );
    assert.throws(
      () => verifySlackSignature({ ...base, signingSecret: `${secret}0`, rawBody: Buffer.from(docBody) }),
      unauthorized,
    );
    assert.throws(
      () =>
        verifySlackSignature({
          ...base,
          signingSecret: secret,
          signature: undefined,
          rawBody: Buffer.from(docBody),
        }),
      unauthorized,
    );
    assert.throws(
      () =>
        verifySlackSignature({
          ...base,
          signingSecret: secret,
          signature: "v0=short",
          rawBody: Buffer.from(docBody),
        }),
      unauthorized,
    );
  });

  it("refuses a replayed (stale) or future-dated request even with a valid signature", () => {
    const request = {
      signingSecret: secret,
      timestamp: docTs,
      signature: docSignature,
      rawBody: Buffer.from(docBody),
    };
    assert.throws(
      () => verifySlackSignature({ ...request, nowSeconds: Number(docTs) + 301 }),
      /five minutes/,
    );
    assert.throws(
      () => verifySlackSignature({ ...request, nowSeconds: Number(docTs) - 301 }),
      /five minutes/,
    );
    assert.throws(
      () => verifySlackSignature({ ...request, timestamp: "15314206l8", nowSeconds: Number(docTs) }),
      unauthorized,
    );
  });
});
