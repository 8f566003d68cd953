/**
 * The demo at /webchat/demo: a product page of the sample knowledge base's fictional thermostat, with
 * the widget embedded exactly as a customer would (one script tag). Its CSP is strict (scripts from
 * this origin only, no inline script, no remote images), which also shows the widget needs no more.
 */
export function demoPageHtml(nonce: string): string {
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
</style>
</head>
<body>
<main>
<h1>Your smart thermostat</h1>
<p>This page stands in for a customer's website. The chat button in the corner is the support widget,
added with one script tag; ask it about setup, billing, shipping, returns or troubleshooting.</p>
<div class="card">
<p><strong>Embed it on your own site:</strong></p>
<p><code>&lt;script src="/webchat/widget.js" data-title="Thermostat help" data-accent="#0f766e" async&gt;&lt;/script&gt;</code></p>
</div>
</main>
<script src="/webchat/widget.js" data-title="Thermostat help" data-accent="#0f766e" async></script>
</body>
</html>
`;
}

/** The demo's Content-Security-Policy for a given style nonce. */
export function demoPageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
