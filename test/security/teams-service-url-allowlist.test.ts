import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serviceUrlAllowed } from "../../adapters/teams/inbound-activity.ts";
import { loadConfig } from "../../src/config.ts";

/** Finding 8 (first bullet): the default allow-list named `*.trafficmanager.net`. */
describe("security: the default Teams service-URL allow-list holds Microsoft's bot hosts only", () => {
  const allowlist = loadConfig({}).teams.serviceUrlAllowlist;

  it("refuses a Traffic Manager profile any Azure customer can register", () => {
    for (const url of [
      "https://attacker-bot.trafficmanager.net/",
      "https://smba.trafficmanager.net.attacker.example/",
      "https://evil.trafficmanager.net/amer/",
    ]) {
      assert.equal(serviceUrlAllowed(url, allowlist), false, url);
    }
  });

  it("accepts the hosts Teams really sends (public and government clouds)", () => {
    for (const url of [
      "https://smba.trafficmanager.net/amer/",
      "https://smba.trafficmanager.net/emea/",
      "https://api.botframework.com/",
      "https://smba.infra.gcc.teams.microsoft.com/",
      "https://smba.infra.gov.teams.microsoft.us/",
    ]) {
      assert.ok(serviceUrlAllowed(url, allowlist), url);
    }
  });
});
