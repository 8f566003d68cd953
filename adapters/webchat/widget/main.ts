import { SupportChatElement } from "./support-chat-element.ts";

/**
 * Entry of widget.js. Embedding is one tag:
 *   <script src="https://GATEWAY/webchat/widget.js" data-title="Help" data-accent="#0a7" async></script>
 * (`data-lang="fr"` chooses the language; without it the page's <html lang> or the browser's is used).
 * which adds a launcher and panel to the page. Pages that want the chat inline use the element itself:
 *   <support-chat mode="inline" heading="Help"></support-chat>
 */
const script = document.currentScript as HTMLScriptElement | null;
// The API lives where the script came from (including any path prefix before /webchat/widget.js).
const src = script?.src ?? "";
SupportChatElement.defaultApiBase = src
  ? src.replace(/\/webchat\/widget\.js(?:[?#].*)?$/, "")
  : location.origin;

if (!customElements.get("support-chat")) customElements.define("support-chat", SupportChatElement);

if (script && script.dataset.mode !== "element") {
  const el = document.createElement("support-chat");
  const attrs: Record<string, string | undefined> = {
    heading: script.dataset.title,
    accent: script.dataset.accent,
    "user-id": script.dataset.userId,
    "user-hash": script.dataset.userHash,
    lang: script.dataset.lang,
  };
  for (const [name, value] of Object.entries(attrs)) if (value) el.setAttribute(name, value);
  const mount = () => document.body.append(el);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
}
