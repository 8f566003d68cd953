import { CallerIdConstants, ConfigurationServiceClientCredentialFactory } from "botbuilder";
import {
  AuthenticationConstants,
  type BotFrameworkAuthentication,
  BotFrameworkAuthenticationFactory,
  type ServiceClientCredentialsFactory,
} from "botframework-connector";
import type { Config } from "../../src/config.ts";

/** Where inbound tokens are checked; the defaults are Microsoft's public cloud. */
export interface TeamsAuthOptions {
  /**
   * OpenID configuration whose `jwks_uri` lists the keys that sign channel tokens.
   * @defaultValue "https://login.botframework.com/v1/.well-known/openidconfiguration"
   */
  openIdMetadataUrl?: string;
  /** Credentials for outbound calls (replaces the app-password flow, e.g. certificates or tests). */
  credentialsFactory?: ServiceClientCredentialsFactory;
}

/** True when inbound activities are verified: an app id is configured. */
export function jwtValidationEnabled(teams: Config["teams"]): boolean {
  return teams.appId !== undefined;
}

/**
 * Builds the Bot Framework authentication the CloudAdapter runs every inbound activity through. With an
 * app id it checks the JWT's signature (keys from the OpenID metadata), issuer, audience (= app id) and
 * serviceUrl claim; with none, botbuilder lets everything in, which is for local development only.
 */
export function createTeamsAuthentication(
  teams: Config["teams"],
  options: TeamsAuthOptions = {},
): BotFrameworkAuthentication {
  const credentials =
    options.credentialsFactory ??
    new ConfigurationServiceClientCredentialFactory({
      MicrosoftAppId: teams.appId ?? "",
      MicrosoftAppPassword: teams.appPassword ?? "",
      MicrosoftAppType: teams.appType,
      // A single-tenant bot gets its outbound token from its own tenant, a multi-tenant one from botframework.com.
      ...(teams.appTenantId === undefined ? {} : { MicrosoftAppTenantId: teams.appTenantId }),
    });
  // botbuilder treats the parameters as all-or-nothing (one set means "use exactly these"), so every
  // value is passed: the public cloud's, with only the metadata URL replaceable.
  return BotFrameworkAuthenticationFactory.create(
    "",
    true,
    AuthenticationConstants.ToChannelFromBotLoginUrl,
    AuthenticationConstants.ToChannelFromBotOAuthScope,
    AuthenticationConstants.ToBotFromChannelTokenIssuer,
    AuthenticationConstants.OAuthUrl,
    options.openIdMetadataUrl ?? AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
    AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
    CallerIdConstants.PublicAzureChannel,
    credentials,
    { requiredEndorsements: [] },
  );
}
