import { createServer } from "node:http";

export interface HostPage {
  /** The page's origin, e.g. `http://localhost:41234`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * A customer's web page on its own origin, embedding the widget from the gateway with one script tag.
 * `host` picks the name in the origin (`localhost` and `127.0.0.1` are different origins to a browser).
 */
export async function startHostPage(
  gatewayUrl: string,
  { host = "localhost", attributes = "" }: { host?: string; attributes?: string } = {},
): Promise<HostPage> {
  const server = createServer((_req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>A shop</h1>
<script src="${gatewayUrl}/webchat/widget.js" data-title="Shop help" ${attributes} async></script>
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
