import { SlackAdapter, slackEnabled } from "../../adapters/slack/slack-adapter.ts";
import { TeamsAdapter } from "../../adapters/teams/teams-adapter.ts";
import type { ChannelAdapter } from "../../adapters/types.ts";
import { WebchatAdapter } from "../../adapters/webchat/webchat-adapter.ts";
import type { Config } from "../config.ts";

/** The channels this gateway serves; each is enabled by its own configuration. */
export function createAdapters(config: Config): ChannelAdapter[] {
  const adapters: ChannelAdapter[] = [new WebchatAdapter()];
  // Teams is always served: without MICROSOFT_APP_ID it runs unverified (warned at start-up and in /readyz).
  adapters.push(new TeamsAdapter());
  if (slackEnabled(config)) adapters.push(new SlackAdapter());
  return adapters;
}
