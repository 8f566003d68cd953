import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asksForBot, asksForPerson } from "../../../src/handoff/handoff-intents.ts";

describe("handoff intents", () => {
  for (const text of [
    "talk to a person",
    "Talk to a person, please!",
    "human",
    "Agent?",
    "speak with a real person",
    "can I talk to someone",
    "I want to speak to an agent",
    "connect me to support",
    "I’d like to chat with a human",
  ]) {
    it(`hands off on "${text}"`, () => assert.equal(asksForPerson(text), true));
  }

  for (const text of [
    "how do I add an agent to my account?",
    "is a human needed to install the thermostat?",
    "talk to a person about my refund of order 1234 that was charged twice last week and never arrived",
    "",
  ]) {
    it(`answers "${text}" instead of handing off`, () => assert.equal(asksForPerson(text), false));
  }

  it("recognises the return-to-bot phrases only", () => {
    assert.equal(asksForBot("back to bot"), true);
    assert.equal(asksForBot("Return to the bot."), true);
    assert.equal(asksForBot("the bot was not helpful, go back"), false);
  });
});
