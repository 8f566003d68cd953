import { webApi } from "@slack/bolt";
import type { ConversationRef } from "../../src/conversation/inbound-message.ts";

/**
 * Posts a support person's reply (sent through the admin API) into the user's Slack thread. A Slack
 * conversation key is `<channel id>:<thread ts>`, as the Slack channel builds it, so the thread is
 * addressed without any other lookup.
 */
export function slackHumanReplier(botToken: string, slackApiUrl?: string) {
  // The client appends method names to the base URL, so it must end with "/".
  const base = slackApiUrl && !slackApiUrl.endsWith("/") ? `${slackApiUrl}/` : slackApiUrl;
  const client = new webApi.WebClient(botToken, base ? { slackApiUrl: base } : {});
  return async (ref: ConversationRef, text: string): Promise<void> => {
    const colon = ref.conversationKey.indexOf(":");
    const channel = colon < 0 ? ref.conversationKey : ref.conversationKey.slice(0, colon);
    const threadTs = colon < 0 ? undefined : ref.conversationKey.slice(colon + 1);
    await client.chat.postMessage({
      channel,
      text,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      unfurl_links: false,
    });
  };
}
