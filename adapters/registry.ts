import type { Config } from "../src/config.ts";
import type { ChannelAdapter } from "./types.ts";
import { WebchatAdapter } from "./webchat/webchat-adapter.ts";

/** The channels this gateway serves; each is enabled by its own configuration. */
export function createAdapters(_config: Config): ChannelAdapter[] {
  const adapters: ChannelAdapter[] = [new WebchatAdapter()];
  return adapters;
}
