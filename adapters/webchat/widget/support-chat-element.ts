import { ChatClient, type Identity } from "./chat-client.ts";
import { ChatController } from "./chat-controller.ts";
import { ChatView } from "./chat-view.ts";
import { type ChosenLanguage, chooseLanguage } from "./language.ts";
import { SessionStore } from "./session-store.ts";
import { en, type Strings, withPack } from "./strings.ts";

/**
 * `<support-chat>`: the whole widget as a custom element. Attributes: `heading`, `accent`,
 * `mode="inline"` (panel in the page flow instead of a launcher), `lang` (the widget's language; else
 * the page's, else the browser's), `api-base` (the gateway's URL; the script tag's own origin by
 * default), `user-id` + `user-hash` (an identity signed by the host's server).
 *
 * Nothing shows until the gateway has said that this page's origin may use the chat: on a site that is
 * not allowed the element stays empty and says why once, in the console, for the site's developer.
 */
export class SupportChatElement extends HTMLElement {
  /** The gateway the bundle was loaded from; set by the entry script. */
  static defaultApiBase = "";

  private started = false;
  private controller: ChatController | undefined;
  private view: ChatView | undefined;

  connectedCallback(): void {
    if (this.started) return;
    this.started = true;
    const apiBase = (this.getAttribute("api-base") ?? SupportChatElement.defaultApiBase).replace(/\/+$/, "");
    const language = chooseLanguage([
      this.closest("[lang]")?.getAttribute("lang"),
      document.documentElement.lang,
      navigator.language,
    ]);
    const client = new ChatClient(apiBase);
    // Both requests at once: the launcher appears after one round trip, already in the page's language.
    const texts = packFor(client, apiBase, language.pack);
    void Promise.all([siteAllowed(client, apiBase), texts]).then(([allowed, strings]) => {
      if (!allowed) {
        this.dataset.ready = "refused";
        return;
      }
      // Without its pack the widget speaks English, and says so to screen readers; the visitor's own
      // language still goes with each message.
      const shown = strings ? language : { ...language, pack: "en" as const, dir: "ltr" as const };
      if (this.isConnected) this.render(apiBase, client, shown, strings ?? en);
    });
  }

  private render(apiBase: string, client: ChatClient, language: ChosenLanguage, strings: Strings): void {
    const shadow = this.attachShadow({ mode: "open" });
    const userId = this.getAttribute("user-id");
    const userHash = this.getAttribute("user-hash");
    const identity: Identity | undefined = userId && userHash ? { userId, userHash } : undefined;
    const inline = this.getAttribute("mode") === "inline";
    let controller: ChatController | undefined;
    this.view = new ChatView(shadow, {
      title: this.getAttribute("heading") || strings.title,
      accent: this.getAttribute("accent") ?? undefined,
      inline,
      strings,
      lang: language.pack,
      dir: language.dir,
      onSend: (text) => void controller?.send(text),
      onOpen: () => void controller?.restore(),
    });
    const store = new SessionStore(apiBase);
    controller = new ChatController(this.view, client, store, identity, language.tag);
    this.controller = controller;
    // Reopen where the reader was: an earlier conversation in this tab opens the panel again after reload.
    if (inline || store.load()) this.view.open();
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

/** One answer per gateway for the whole page (several elements ask once, and warn once). */
const siteChecks = new Map<string, Promise<boolean>>();

/**
 * Whether the gateway lets this page's origin use the chat. Only a clear "no" hides the widget: when
 * the gateway cannot be asked (offline, an older gateway), the widget shows and every request it makes
 * is still checked by the gateway, which is what actually enforces the rule.
 */
function siteAllowed(client: ChatClient, apiBase: string): Promise<boolean> {
  let check = siteChecks.get(apiBase);
  if (!check) {
    check = client.config().then(
      ({ allowed }) => {
        if (allowed !== false) return true;
        console.warn(
          `support-chat: the chat gateway at ${apiBase} does not allow pages on ${location.origin}, so the ` +
            "widget stays hidden. Add this origin to WEBCHAT_ALLOWED_ORIGINS (or to a site in WEBCHAT_SITES) " +
            "in the gateway's configuration.",
        );
        return false;
      },
      () => true,
    );
    siteChecks.set(apiBase, check);
  }
  return check;
}

const packs = new Map<string, Promise<Strings | undefined>>();

/** The texts of a language: English is built in, another pack is fetched once; undefined if that fails. */
function packFor(client: ChatClient, apiBase: string, pack: string): Promise<Strings | undefined> {
  if (pack === "en") return Promise.resolve(en);
  const key = `${apiBase} ${pack}`;
  let texts = packs.get(key);
  if (!texts) {
    texts = client.strings(pack).then(withPack, () => undefined);
    packs.set(key, texts);
  }
  return texts;
}
