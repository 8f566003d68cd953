import { createServer } from "node:http";

export interface HostPageOptions {
  /** The name in the page's origin (`localhost` and `127.0.0.1` are different origins to a browser). */
  host?: string;
  /** Extra attributes on the widget's script tag, per page path (`/` when none matches). */
  pages?: Record<string, string>;
  /** Attributes of the page's <html> element. @defaultValue `lang="en"` */
  htmlAttributes?: string;
  /** Attributes of the <html> element per page path, instead of `htmlAttributes`. */
  htmlAttributesFor?: Record<string, string>;
  /** Markup placed before the script tag, per page path (e.g. an inline `<support-chat>`). */
  markup?: Record<string, string>;
}

export interface HostPage {
  /** The page's origin, e.g. `http://localhost:41234`. */
  origin: string;
  /** Sets the gateway the pages load the widget from (known only after the gateway starts). */
  gateway: string;
  close(): Promise<void>;
}

/** A customer's web site on its own origin, embedding the widget from the gateway with one script tag. */
export async function startHostPage({
  host = "localhost",
  pages = {},
  htmlAttributes = 'lang="en"',
  htmlAttributesFor = {},
  markup = {},
}: HostPageOptions = {}): Promise<HostPage> {
  const page: HostPage = { origin: "", gateway: "", close: async () => undefined };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const attributes = pages[path] ?? "";
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><html ${htmlAttributesFor[path] ?? htmlAttributes}><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>A shop</h1>
${markup[path] ?? ""}
<script src="${page.gateway}/webchat/widget.js" data-title="Shop help" ${attributes} async></script>
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  page.origin = `http://${host}:${port}`;
  page.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return page;
}
