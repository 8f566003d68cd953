/**
 * The widget's CSS, scoped by its shadow root. `:host { all: initial }` stops the host page's inherited
 * styles (font, colour, line-height...) from leaking in; the shadow root stops ours leaking out. Logical
 * properties (inset-inline-end...) put the launcher on the correct side for right-to-left pages.
 */
export const widgetCss = `
:host{all:initial;--accent:#2563eb;--fg:#111827;--muted:#4b5563;--bg:#fff;--bubble:#f3f4f6;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg)}
:host([mode=inline]){display:block}
*{box-sizing:border-box}
[hidden]{display:none!important}
button{font:inherit;cursor:pointer}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.launcher{position:fixed;bottom:16px;inset-inline-end:16px;z-index:2147483646;width:56px;height:56px;
border-radius:50%;border:0;background:var(--accent);color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);
display:grid;place-items:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:28px;height:28px;fill:currentColor}
.launcher[dir=rtl] svg{transform:scaleX(-1)}
.panel{position:fixed;bottom:84px;inset-inline-end:16px;z-index:2147483647;width:min(380px,calc(100vw - 32px));
height:min(600px,calc(100vh - 100px));background:var(--bg);border-radius:12px;display:flex;flex-direction:column;
box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden;animation:rise .18s ease-out}
:host([mode=inline]) .panel{position:static;width:100%;height:var(--height,520px);box-shadow:0 1px 4px rgba(0,0,0,.2);animation:none}
@media (max-width:480px){:host(:not([mode=inline])) .panel{inset:0;width:100%;height:100%;border-radius:0}}
@keyframes rise{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--accent);color:#fff}
header h2{flex:1;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;width:36px;height:36px;border-radius:6px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.msg{max-width:88%;padding:8px 12px;border-radius:12px;overflow-wrap:anywhere}
.msg p,.msg ul,.msg ol,.msg pre,.msg blockquote{margin:0 0 6px}
.msg>:last-child,.body>:last-child{margin-bottom:0}
.msg ul,.msg ol{padding-inline-start:20px}
.msg pre{white-space:pre-wrap;background:rgba(0,0,0,.06);padding:6px;border-radius:6px}
.msg code{font:13px ui-monospace,Menlo,Consolas,monospace}
.msg blockquote{border-inline-start:3px solid #d1d5db;padding-inline-start:8px;color:var(--muted)}
.msg a{color:inherit}
.user{align-self:flex-end;background:var(--accent);color:#fff}
.bot{align-self:flex-start;background:var(--bubble)}
.sources{margin:8px 0 0;padding:6px 0 0;border-top:1px solid #d1d5db;font-size:13px;color:var(--muted)}
.sources ol{margin:2px 0 0;padding-inline-start:20px}
.actions{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
.actions button{border:1px solid #d1d5db;background:#fff;border-radius:16px;padding:3px 10px;font-size:13px;color:var(--fg)}
.actions button[aria-pressed=true]{background:var(--accent);border-color:var(--accent);color:#fff}
.note{font-size:13px;color:var(--muted);margin-top:6px}
.typing{align-self:flex-start;display:flex;gap:4px;padding:12px;background:var(--bubble);border-radius:12px}
.typing i{width:7px;height:7px;border-radius:50%;background:var(--muted);animation:blink 1.2s infinite}
.typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}
@keyframes blink{0%,80%,100%{opacity:.25}40%{opacity:1}}
.error{align-self:stretch;background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:8px;padding:8px 10px;
display:flex;gap:8px;align-items:center;justify-content:space-between}
.error button{border:1px solid #991b1b;background:#fff;color:#991b1b;border-radius:6px;padding:2px 10px}
.status{padding:4px 12px;font-size:13px;background:#fffbeb;color:#92400e}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb}
textarea{flex:1;resize:none;font:inherit;color:var(--fg);border:1px solid #9ca3af;border-radius:8px;padding:8px;
min-height:40px;max-height:120px}
.send{border:0;border-radius:8px;background:var(--accent);color:#fff;padding:0 14px;font-weight:600}
.send:disabled{opacity:.5;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
`;
