import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ServiceClientCredentialsFactory } from "botframework-connector";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/**
 * A local stand-in for the Bot Framework's token service: an OpenID configuration and a JWKS on
 * 127.0.0.1, and a signer for channel tokens with the claims botbuilder checks (iss
 * https://api.botframework.com, aud = app id, serviceurl, exp). The signing key is generated per run.
 */
export class TeamsTokenIssuer {
  private server: Server | undefined;
  private port = 0;
  private privateKey: CryptoKey | undefined;
  private jwk: JWK | undefined;
  readonly kid = `test-key-${process.pid}`;

  get openIdMetadataUrl(): string {
    return `http://127.0.0.1:${this.port}/v1/.well-known/openidconfiguration`;
  }

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    this.privateKey = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: this.kid, use: "sig", alg: "RS256" };
    this.server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/v1/.well-known/openidconfiguration") {
        res.end(
          JSON.stringify({
            issuer: "https://api.botframework.com",
            jwks_uri: `http://127.0.0.1:${this.port}/v1/.well-known/keys`,
            id_token_signing_alg_values_supported: ["RS256"],
          }),
        );
      } else if (req.url === "/v1/.well-known/keys") {
        // Teams' real keys carry endorsements (the channels a key may sign for); botbuilder checks them.
        res.end(JSON.stringify({ keys: [{ ...this.jwk, endorsements: ["msteams"] }] }));
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A channel token as Teams would send it in `Authorization: Bearer ...`. */
  async sign(claims: { appId: string; serviceUrl: string; expiresInSeconds?: number }): Promise<string> {
    if (!this.privateKey) throw new Error("TeamsTokenIssuer.start() first");
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ serviceurl: claims.serviceUrl })
      .setProtectedHeader({ alg: "RS256", kid: this.kid, typ: "JWT" })
      .setIssuer("https://api.botframework.com")
      .setAudience(claims.appId)
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + (claims.expiresInSeconds ?? 3600))
      .sign(this.privateKey);
  }
}

/**
 * Outbound credentials for tests with an app id: the real flow would fetch an Entra token over the
 * network, so this factory signs connector calls with a fixed bearer token the fake connector records.
 */
export class FixedCredentialsFactory extends ServiceClientCredentialsFactory {
  constructor(
    private readonly appId: string,
    readonly token = "outbound-test-token",
  ) {
    super();
  }

  async isValidAppId(appId: string): Promise<boolean> {
    return appId === this.appId;
  }

  async isAuthenticationDisabled(): Promise<boolean> {
    return false;
  }

  async createCredentials() {
    const token = this.token;
    return {
      async signRequest<T extends { headers: { set(name: string, value: string): void } }>(
        request: T,
      ): Promise<T> {
        request.headers.set("authorization", `Bearer ${token}`);
        return request;
      },
    };
  }
}
