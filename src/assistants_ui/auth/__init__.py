"""Login: passwords, single sign-on (OpenID Connect) and anonymous browsers.

Streamlit-free: the page (`assistants_ui.web.login_view`) renders what this
package decides.

- `load_auth(settings)` / `auth_problems(settings)`: which methods are
  configured and what stops them (`setup`);
- `Identity`: who is signed in, the key of their stored user (`identity`);
- passwords and the credentials file (`passwords`), the re-authentication
  cookie, its key policy and the signed guest cookie (`cookies`), lockout
  after wrong passwords shared through the database (`lockout`), one login
  attempt counted before it is hashed (`login`), logins that logging out
  ends server-side and the app's own keys (`sessions`), `[auth]` for
  `st.login` and its allow-list (`oidc`);
- `assistants-ui users ...` (`cli`).
"""

from assistants_ui.auth.cookies import CookieConfig
from assistants_ui.auth.identity import AuthProvider, Identity, oidc_subject
from assistants_ui.auth.lockout import LockState, LoginThrottle
from assistants_ui.auth.oidc import OidcConfig, OidcProvider
from assistants_ui.auth.passwords import CredentialsError, CredentialStore, PasswordUser
from assistants_ui.auth.setup import AuthSetup, auth_problems, load_auth

__all__ = [
    "AuthProvider",
    "AuthSetup",
    "CookieConfig",
    "CredentialStore",
    "CredentialsError",
    "Identity",
    "LockState",
    "LoginThrottle",
    "OidcConfig",
    "OidcProvider",
    "PasswordUser",
    "auth_problems",
    "load_auth",
    "oidc_subject",
]
