import { AnswerView, h } from "./answer-view.ts";
import { trapFocus } from "./focus-trap.ts";
import { renderMarkdown } from "./render-markdown.ts";
import type { Strings } from "./strings.ts";
import { widgetCss } from "./widget-styles.ts";

export interface ChatViewOptions {
  title: string;
  accent: string | undefined;
  /** Inline: the panel sits in the page flow, always open, no launcher. */
  inline: boolean;
  /** The texts, in the language of `lang`. */
  strings: Strings;
  /** The language of the texts (the panel's `lang`, so that screen readers pronounce them right). */
  lang: string;
  dir: "ltr" | "rtl";
  onSend(text: string): void;
  /** The panel was opened (first time or again). */
  onOpen(): void;
}

const chatIcon =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';

/** The panel's DOM inside the shadow root: header, message log, live region, composer. */
export class ChatView {
  readonly launcher: HTMLButtonElement | undefined;
  readonly panel: HTMLElement;
  readonly log: HTMLElement;
  readonly input: HTMLTextAreaElement;
  private readonly live: HTMLElement;
  private readonly status: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly answers = new Map<string, AnswerView>();
  private releaseTrap: (() => void) | undefined;
  /** The latest question: the log keeps it and the start of its answer in view (see `scroll`). */
  private anchor: HTMLElement | undefined;
  /** Where the widget last scrolled the log to; while that does not change, the reader's scrolling stands. */
  private scrolledTo = -1;
  readonly t: Strings;

  constructor(
    private readonly shadow: ShadowRoot,
    private readonly options: ChatViewOptions,
  ) {
    const t = options.strings;
    this.t = t;
    adoptStyles(shadow);
    if (options.accent && /^#[0-9a-f]{3,8}$|^[a-z]+$/i.test(options.accent)) {
      (shadow.host as HTMLElement).style.setProperty("--accent", options.accent);
    }
    const titleId = "support-chat-title";
    this.log = h("div", {
      class: "log",
      role: "log",
      "aria-live": "off",
      "aria-label": options.title,
      tabindex: "0",
    });
    // Streaming text would be read out token by token, so the log itself is silent and finished
    // messages are announced once through this region.
    this.live = h("div", { class: "sr", "aria-live": "polite", "aria-atomic": "true" });
    this.status = h("div", { class: "status", role: "status", hidden: "" });
    this.typing = h(
      "div",
      { class: "typing", "aria-label": t.typing, role: "img", hidden: "" },
      h("i"),
      h("i"),
      h("i"),
    );
    this.input = h("textarea", {
      rows: "1",
      placeholder: t.placeholder,
      "aria-label": t.placeholder,
      maxlength: "4000",
    });
    const send = h("button", { type: "submit", class: "send" }, t.send);
    const form = h("form", {}, this.input, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter starts a new line; IME composition keeps Enter for itself.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    const close = h("button", { type: "button", class: "close", "aria-label": t.close }, "×");
    const header = h("header", {}, h("h2", { id: titleId }, options.title));
    this.panel = h(
      "section",
      { class: "panel", lang: options.lang, dir: options.dir, "aria-labelledby": titleId },
      header,
      this.status,
      this.log,
      form,
      this.live,
    );
    this.log.append(h("div", { class: "msg bot" }, t.greeting), this.typing);
    if (options.inline) {
      shadow.append(this.panel);
      return;
    }
    header.append(close);
    close.onclick = () => this.close();
    this.panel.setAttribute("role", "dialog");
    this.panel.setAttribute("aria-modal", "true");
    this.panel.hidden = true;
    const launcher = h("button", {
      type: "button",
      class: "launcher",
      "aria-label": t.open,
      "aria-expanded": "false",
      "aria-haspopup": "dialog",
      lang: options.lang,
      dir: options.dir,
    });
    // A constant, trusted icon (no answer text ever reaches innerHTML).
    launcher.innerHTML = chatIcon;
    launcher.onclick = () => (this.isOpen ? this.close() : this.open());
    this.launcher = launcher;
    shadow.append(launcher, this.panel);
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  open(): void {
    this.panel.hidden = false;
    this.launcher?.setAttribute("aria-expanded", "true");
    if (!this.options.inline) this.releaseTrap ??= trapFocus(this.shadow, this.panel, () => this.close());
    this.input.focus();
    this.scroll(true);
    this.options.onOpen();
  }

  close(): void {
    if (this.options.inline) return;
    this.panel.hidden = true;
    this.launcher?.setAttribute("aria-expanded", "false");
    this.releaseTrap?.();
    this.releaseTrap = undefined;
    this.launcher?.focus();
  }

  addUserMessage(text: string): HTMLElement {
    const el = h("div", { class: "msg user", "data-role": "question", dir: "auto" });
    el.append(renderMarkdown(document, text));
    this.log.insertBefore(el, this.typing);
    this.announce(`${this.t.you}: ${text}`);
    this.anchor = el;
    this.scroll();
    return el;
  }

  /** The bubble for an answer, created on first use. */
  answer(messageId: string): AnswerView {
    let view = this.answers.get(messageId);
    if (!view) {
      view = new AnswerView(messageId, () => this.scroll(), this.t);
      this.answers.set(messageId, view);
      this.log.insertBefore(view.el, this.typing);
    }
    return view;
  }

  hasAnswer(messageId: string): boolean {
    return this.answers.has(messageId);
  }

  setTyping(on: boolean): void {
    this.typing.hidden = !on;
    // Keep the indicator last in the log.
    this.log.append(this.typing);
    this.scroll();
  }

  /** A connection status line above the log; null hides it. */
  setStatus(text: string | null): void {
    this.status.hidden = text === null;
    this.status.textContent = text ?? "";
  }

  /** An informational line from the service (not an answer, not an error). */
  showNotice(text: string): void {
    this.log.insertBefore(h("div", { class: "msg bot notice", "data-role": "notice" }, text), this.typing);
    this.scroll();
  }

  /** A failure in plain words, with a Retry button when retrying can help. */
  showError(text: string, retry?: () => void): void {
    const box = h("div", { class: "error", role: "alert", "data-role": "error" }, h("span", {}, text));
    if (retry) {
      const button = h("button", { type: "button" }, this.t.retry);
      button.onclick = () => {
        box.remove();
        retry();
      };
      box.append(button);
    }
    this.log.insertBefore(box, this.typing);
    this.scroll();
  }

  announce(text: string): void {
    this.live.textContent = text;
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (text === "") return;
    this.input.value = "";
    this.options.onSend(text);
  }

  /**
   * Follows the conversation's end until the latest answer grows taller than the log; from then on the
   * log stays where that question and the start of its answer are visible, instead of showing only an
   * answer's last lines. The widget scrolls only when that target moves (or `force`), so a reader who
   * scrolls on through a long answer is not pulled back while it is still being written.
   */
  private scroll(force = false): void {
    const log = this.log;
    const bottom = log.scrollHeight - log.clientHeight;
    let target = bottom;
    const question = this.anchor;
    if (question?.isConnected) {
      const origin = log.getBoundingClientRect().top - log.scrollTop;
      const topOf = (el: Element) => el.getBoundingClientRect().top - origin;
      let start = topOf(question) - 8;
      let answer = question.nextElementSibling;
      while (answer && answer.getAttribute("data-role") !== "answer") answer = answer.nextElementSibling;
      // A question taller than a good part of the log gives way: the answer's start is what must show.
      if (answer) start = Math.max(start, topOf(answer) - log.clientHeight * 0.4);
      target = Math.max(0, Math.min(bottom, Math.round(start)));
    }
    if (!force && target === this.scrolledTo) return;
    this.scrolledTo = target;
    log.scrollTop = target;
  }
}

/**
 * A constructed stylesheet is not an inline <style>, so a host page's strict CSP (no 'unsafe-inline'
 * styles) does not block it; older browsers get a <style> element.
 */
function adoptStyles(shadow: ShadowRoot): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(widgetCss);
    shadow.adoptedStyleSheets = [sheet];
  } catch {
    const style = document.createElement("style");
    style.textContent = widgetCss;
    shadow.append(style);
  }
}
