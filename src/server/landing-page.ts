import type { Express } from "express";
import { baseUrlOf, escapeHtml, sendHtmlPage } from "../http/html-page.ts";

/**
 * `GET /`: where a new operator lands after `npm start` — what runs here and where to go next (the
 * demo, the health checks, the docs), instead of a 404. Static apart from the base URL, so it says
 * nothing about the deployment that /readyz would not.
 */
export function mountLandingPage(app: Express, { publicUrl }: { publicUrl?: string | undefined }): void {
  app.get("/", (req, res) => {
    sendHtmlPage(res, (nonce) => landingPageHtml(nonce, baseUrlOf(req, publicUrl)));
  });
}

/** The landing page for a base URL (PUBLIC_URL, or the URL it was opened with). */
export function landingPageHtml(nonce: string, baseUrl: string): string {
  const base = escapeHtml(baseUrl);
  const snippet = escapeHtml(`<script src="${baseUrl}/webchat/widget.js" data-title="Help" async></script>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support gateway</title>
<style nonce="${nonce}">
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2937;background:#f8fafc}
main{max-width:720px;margin:0 auto;padding:32px 20px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:18px;margin:24px 0 6px}
li{margin:4px 0}
code{background:#eef2f7;padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
</style>
</head>
<body>
<main>
<h1>Support gateway</h1>
<p>This service answers support questions in Slack, Microsoft Teams and a web chat widget, from the
knowledge folder. It is running at <code>${base}</code>.</p>
<h2>Try it</h2>
<ul>
<li><a href="${base}/webchat/demo">Web chat demo</a>: the widget on a sample product page.</li>
<li>Embed the widget on a site (allow the site's origin with <code>WEBCHAT_ALLOWED_ORIGINS</code>):
<br><code>${snippet}</code></li>
</ul>
<h2>Health</h2>
<ul>
<li><a href="${base}/healthz">/healthz</a>: the process is up.</li>
<li><a href="${base}/readyz">/readyz</a>: ready to answer: Redis, workers, a model or retrieval-only mode,
the knowledge folder and each channel.</li>
<li><a href="${base}/metrics">/metrics</a>: Prometheus metrics.</li>
</ul>
<h2>Documentation</h2>
<p>In the project's files:</p>
<ul>
<li><code>README.md</code>: <em>Two commands</em>, <em>Configuration</em> (every setting),
<em>Channels</em>, <em>Web chat API</em>, <em>Support loop and admin API</em>, <em>Operations</em>.</li>
<li><code>adapters/webchat/widget/README.md</code>: embedding the widget, which sites may use it, signed
identities, languages.</li>
<li><code>knowledge/README.md</code>: writing the knowledge folder and checking it
(<code>npm run kb</code>).</li>
<li><code>adapters/slack/README.md</code>, <code>adapters/teams/README.md</code>: connecting Slack and Teams.</li>
</ul>
</main>
</body>
</html>
`;
}
