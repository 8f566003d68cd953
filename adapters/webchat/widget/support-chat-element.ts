import { ChatClient, type Identity } from "./chat-client.ts";
import { ChatController } from "./chat-controller.ts";
import { ChatView } from "./chat-view.ts";
import { SessionStore } from "./session-store.ts";

/**
 * `<support-chat>`: the whole widget as a custom element. Attributes: `heading`, `accent`,
 * `mode="inline"` (panel in the page flow instead of a launcher), `api-base` (the gateway's URL; the
 * script tag's own origin by default), `user-id` + `user-hash` (an identity signed by the host's server).
 */
export class SupportChatElement extends HTMLElement {
  /** The gateway the bundle was loaded from; set by the entry script. */
  static defaultApiBase = "";

  private controller: ChatController | undefined;
  private view: ChatView | undefined;

  connectedCallback(): void {
    if (this.view) return;
    const shadow = this.attachShadow({ mode: "open" });
    const apiBase = (this.getAttribute("api-base") ?? SupportChatElement.defaultApiBase).replace(/\/+$/, "");
    const userId = this.getAttribute("user-id");
    const userHash = this.getAttribute("user-hash");
    const identity: Identity | undefined = userId && userHash ? { userId, userHash } : undefined;
    const inline = this.getAttribute("mode") === "inline";
    const langOf = this.closest("[lang]")?.getAttribute("lang") || document.documentElement.lang || "en";
    const dir =
      getComputedStyle(this.parentElement ?? document.documentElement).direction === "rtl" ? "rtl" : "ltr";
    let controller: ChatController | undefined;
    this.view = new ChatView(shadow, {
      title: this.getAttribute("heading") || "Support",
      accent: this.getAttribute("accent") ?? undefined,
      inline,
      lang: langOf,
      dir,
      onSend: (text) => void controller?.send(text),
      onOpen: () => void controller?.restore(),
    });
    controller = new ChatController(this.view, new ChatClient(apiBase), new SessionStore(apiBase), identity);
    this.controller = controller;
    // Reopen where the reader was: an earlier conversation in this tab opens the panel again after reload.
    if (inline || new SessionStore(apiBase).load()) this.view.open();
    this.dataset.ready = "true";
    performance.mark?.("support-chat:ready");
  }

  disconnectedCallback(): void {
    this.controller?.dispose();
  }

  /** Opens the panel (for host pages with their own "Chat with us" button). */
  open(): void {
    this.view?.open();
  }
}
