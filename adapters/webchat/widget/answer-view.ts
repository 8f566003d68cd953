import type { Citation } from "./chat-client.ts";
import { safeHref } from "./markdown.ts";
import { renderMarkdown } from "./render-markdown.ts";
import type { Strings } from "./strings.ts";

/** Creates an element with attributes and text or element children; text always goes in as text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

export interface AnswerActions {
  onVote(vote: "up" | "down"): Promise<void>;
  onHandoff(): Promise<void>;
}

/** One answer bubble: streamed text, then the final Markdown, sources and actions. */
export class AnswerView {
  readonly el = h("div", { class: "msg bot", "data-role": "answer" });
  // dir="auto": an answer in another script than the widget's (English in an Arabic panel) reads right.
  private readonly body = h("div", { class: "body", dir: "auto" });
  private text = "";
  private scheduled = false;
  /** True once the final answer (or an error) replaced the stream. */
  done = false;

  constructor(
    readonly messageId: string,
    private readonly onChange: () => void,
    private readonly t: Strings,
  ) {
    this.el.dataset.messageId = messageId;
    this.el.append(this.body);
  }

  /** Appends streamed text; rendering waits for the next frame so that bursts of tokens draw once. */
  append(chunk: string): void {
    if (this.done) return;
    this.text += chunk;
    this.el.setAttribute("aria-busy", "true");
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (!this.done) this.render();
    });
  }

  /** The authoritative answer: replaces whatever was streamed. */
  finish(text: string, citations: Citation[], actions: AnswerActions, vote?: "up" | "down"): void {
    this.done = true;
    this.text = text;
    this.el.removeAttribute("aria-busy");
    this.render();
    if (citations.length > 0) this.el.append(sourcesList(citations, this.t));
    this.el.append(actionRow(actions, this.t, vote));
  }

  private render(): void {
    this.body.replaceChildren(renderMarkdown(document, this.text));
    this.onChange();
  }

  get plainText(): string {
    return this.body.textContent ?? "";
  }
}

function sourcesList(citations: Citation[], t: Strings): HTMLElement {
  const list = h("ol");
  for (const c of citations) {
    const label = c.heading && c.heading !== c.title ? `${c.title} — ${c.heading}` : c.title || c.path;
    const href = c.url ? safeHref(c.url) : null;
    const item = href
      ? h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, label)
      : h("span", { title: c.path }, label);
    list.append(h("li", { value: String(c.n) }, item));
  }
  return h("div", { class: "sources", "data-role": "sources" }, h("span", {}, t.sources), list);
}

function actionRow(actions: AnswerActions, t: Strings, initialVote?: "up" | "down"): HTMLElement {
  const note = h("div", { class: "note", role: "status" });
  const up = h("button", { type: "button", "aria-pressed": "false", "data-action": "up" }, t.helpful);
  const down = h("button", { type: "button", "aria-pressed": "false", "data-action": "down" }, t.notHelpful);
  const human = h("button", { type: "button", "data-action": "handoff" }, t.human);
  const mark = (vote: "up" | "down") => {
    up.setAttribute("aria-pressed", String(vote === "up"));
    down.setAttribute("aria-pressed", String(vote === "down"));
  };
  if (initialVote) mark(initialVote);
  const run = async (button: HTMLButtonElement, work: () => Promise<void>, done: string) => {
    button.disabled = true;
    try {
      await work();
      note.textContent = done;
    } catch {
      note.textContent = t.failed;
    } finally {
      button.disabled = false;
    }
  };
  up.onclick = () => run(up, () => actions.onVote("up").then(() => mark("up")), t.thanks);
  down.onclick = () => run(down, () => actions.onVote("down").then(() => mark("down")), t.thanks);
  human.onclick = () => run(human, actions.onHandoff, t.humanAsked);
  return h("div", {}, h("div", { class: "actions" }, up, down, human), note);
}
