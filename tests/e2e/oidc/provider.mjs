// A real OpenID Provider for the SSO browser test: panva/oidc-provider with its
// development interactions (a login form that accepts any name and password, then
// a consent screen). One confidential client, registered for the app's redirect URI.
//
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Prints "listening <issuer>" once it accepts connections. Test use only.
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error("usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI");
  process.exit(2);
}
const issuer = `http://localhost:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // The login name typed into the dev form becomes the subject; name and e-mail
  // are derived from it, so the test knows what the app must show.
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: `OIDC ${sub}`,
          email: `${sub}@oidc.example`,
          email_verified: true,
        };
      },
    };
  },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  // Put the granted claims in the ID token: Streamlit reads the user from it.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["test-only-cookie-key-for-the-oidc-provider"] },
});
provider.on("server_error", (ctx, err) => console.error("server_error", err));

provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
