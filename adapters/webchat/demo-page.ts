import { escapeHtml } from "../../src/http/html-page.ts";

export interface DemoPageOptions {
  /** Nonce of the page's one style element (see htmlPageCsp in src/http/html-page.ts). */
  nonce: string;
  /** The gateway's public base URL, for the embed snippet a site owner copies to another site. */
  baseUrl: string;
  /** The widget's language (`?lang=` on the demo URL; already checked to be a language tag). */
  lang?: string | undefined;
}

/**
 * The demo at /webchat/demo: a product page of the sample knowledge base's fictional thermostat, with
 * the widget embedded exactly as a customer would (one script tag). It is served under the strict
 * htmlPageCsp (scripts from this origin only, no inline script), which also shows the widget needs no more.
 * The page loads the script by a relative URL; the snippet it shows is absolute, since a relative one
 * pasted on another site would point at that site.
 */
export function demoPageHtml({ nonce, baseUrl, lang }: DemoPageOptions): string {
  // With a language chosen, the title is left to the language pack, so the whole widget shows in it.
  const attributes = `${lang ? `data-lang="${escapeHtml(lang)}"` : 'data-title="Thermostat help"'} data-accent="#0f766e"`;
  const snippet = `<script src="${baseUrl}/webchat/widget.js" ${attributes} async></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support chat demo</title>
<style nonce="${nonce}">
body{margin:0;font:16px/1.5 Georgia,serif;color:#1f2937;background:#f8fafc}
main{max-width:720px;margin:0 auto;padding:32px 20px}
h1{font-size:28px;margin:0 0 8px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 20px;margin:16px 0}
code{overflow-wrap:anywhere}
</style>
</head>
<body>
<main>
<h1>Your smart thermostat</h1>
<p>This page stands in for a customer's website. The chat button in the corner is the support widget,
added with one script tag; ask it about setup, billing, shipping, returns or troubleshooting.</p>
<div class="card">
<p><strong>Embed it on your own site</strong> (and add that site's origin to <code>WEBCHAT_ALLOWED_ORIGINS</code>):</p>
<p><code id="snippet">${escapeHtml(snippet)}</code></p>
<p>Other languages: <code>data-lang="fr"</code> (or the page's <code>&lt;html lang&gt;</code>); try
<a href="?lang=fr">fr</a>, <a href="?lang=de">de</a>, <a href="?lang=es">es</a>, <a href="?lang=pt">pt</a>,
<a href="?lang=zh">zh</a>, <a href="?lang=ja">ja</a>, <a href="?lang=ar">ar</a>, <a href="?lang=en">en</a>.</p>
</div>
</main>
<script src="/webchat/widget.js" ${attributes} async></script>
</body>
</html>
`;
}
