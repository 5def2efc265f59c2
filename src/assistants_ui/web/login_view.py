"""Who is using the page: the login form, SSO buttons, anonymous browsers, log out.

`current_identity(settings, repo)` is called once per run, before anything
personal is drawn. It returns the signed-in `Identity`, or renders what is
needed instead (the login page, or the login configuration's problems) and
returns None, after which the caller stops.

- `AUTHENTICATION_REQUIRED` off: each browser gets an anonymous identity, a
  random token kept in a long-lived cookie signed by the server (a forged
  value is a new guest), so its history survives reloads and is not shared
  with other browsers. Its users row is made when it first saves something.
- Passwords: a form; every attempt is counted in the database and checked
  against the lock before any hashing (`password_login`); a right password
  starts a server-side login session (`LoginSessions`) and sets a signed
  cookie (`[cookie]`) carrying its id, so that a reload does not ask again
  and "Log out" ends it for every copy of the cookie.
- Single sign-on: a "Log in with ..." button per `[auth]` provider, calling
  `st.login`; Streamlit keeps its own identity cookie, read through `st.user`.
  Only people on the allow-list get in (`[auth] allowed_emails`, ...);
  "Log out" records the login as revoked, so a copy of the cookie is refused.

A session is bound to its login: the login is proven on one connection (the
page's websocket: the form was submitted on it, or its cookie carried the
login), and a run on any other connection (Streamlit resumes a session for
whoever names its id, which is no secret: it is in every upload URL) goes on
only if that connection's own cookie carries the same login (the password
login's id, the signed guest token, Streamlit's identity cookie); otherwise
the session is cleared and shows the login page (`_bound`). `guard` runs the
same checks (this binding, logging out, disabling, a changed password) before
every run's callbacks and every fragment run (`web/session_guard.py`).

Cookies are read and written through `cookie_jar`. Nothing secret is logged.

Session-state keys are this module's own (prefix `auth_`).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
import weakref
from functools import partial

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from assistants_ui.auth import AuthSetup, Identity, LoginThrottle, load_auth, oidc_subject
from assistants_ui.auth.cookies import new_guest_token, read_guest, sign_guest
from assistants_ui.auth.lockout import LockState
from assistants_ui.auth.login import password_login
from assistants_ui.auth.oidc import AllowList, Refusal
from assistants_ui.auth.passwords import credentials_path
from assistants_ui.auth.sessions import GUEST_KEY, LoginSessions, oidc_session_id, server_key
from assistants_ui.core.safe_markdown import literal
from assistants_ui.i18n import N_, _, ngettext
from assistants_ui.settings import SECRETS_FILES, Settings
from assistants_ui.storage import Database, Repository, StorageError
from assistants_ui.storage.admin import Admin
from assistants_ui.web import cookie_jar, session_guard, upload_gate
from assistants_ui.web import language as languages
from assistants_ui.web.resources import LastBuilt

__all__ = [
    "ANONYMOUS_COOKIE",
    "DISABLED",
    "current_identity",
    "guard",
    "is_admin",
    "logout_control",
    "signed_in_as",
]

log = logging.getLogger(__name__)

ANONYMOUS_COOKIE = "assistants_ui_browser"
ANONYMOUS_DAYS = 400  # the longest lifetime browsers allow a cookie

_IDENTITY_KEY = "auth_identity"  # the signed-in Identity of this browser session
_METHOD_KEY = "auth_method"  # "password" | "oidc" | "anonymous"
_FINGERPRINT_KEY = "auth_fingerprint"  # password sessions: the password's fingerprint
_LOGGED_OUT_KEY = "auth_logged_out"  # True after "Log out": ignore the cookie of the start
_NOTICE_KEY = "auth_notice"  # a message for the next login page (e.g. "signed out")
_COOKIE_NAME_KEY = "auth_cookie_name"  # password sessions: the login cookie to delete at logout
_SID_KEY = "auth_session_id"  # this login's id in login_sessions (revoked at logout)
_SESSIONS_KEY = "auth_sessions"  # the LoginSessions of this run (for the logout callbacks)
_REFUSED_KEY = "auth_refused"  # single sign-on of someone not on the allow-list
_SETTINGS_KEY = "auth_settings"  # the Settings of the last full run (for `guard`)
_CONNECTION_KEY = "auth_connection"  # weak reference: the connection the login was proven on
_CHECKED_KEY = "auth_checked"  # (setup, identity, when): what `guard` found before this run
NO_COOKIE_SESSION = dt.timedelta(days=1)  # a login without a cookie ([cookie] expiry_days = 0)
DISABLED = N_(
    "This account was disabled by an administrator: it is signed out and cannot sign in. "
    "Ask the administrator to enable it again."
)
DISABLED_GUEST = N_(
    "This browser was disabled by the app's administrator: nothing can be sent from it."
)
RECONNECTED = N_(
    "This page reconnected without your login's cookie, so the login was not kept: "
    "please log in again."
)


# -- configuration, built once per process -------------------------------------------


def _fingerprint(settings: Settings) -> tuple[object, ...]:
    stamps: list[object] = [settings.model_dump_json()]
    for path in (*SECRETS_FILES, credentials_path(settings)):
        try:
            stat = path.stat()  # the inode too: the users file is replaced, never edited
            stamps.append((str(path.absolute()), stat.st_mtime_ns, stat.st_size, stat.st_ino))
        except OSError:
            stamps.append((str(path.absolute()), None))
    return tuple(stamps)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_setup(_settings: Settings, fingerprint: tuple[object, ...]) -> AuthSetup:
    setup = load_auth(_settings)
    for problem in setup.problems:
        log.error("login: %s", problem)
    for warning in setup.warnings:
        log.warning("login: %s", warning)
    for note in setup.notes:
        log.info("login: %s", note)
    return setup


_setups: LastBuilt[AuthSetup] = LastBuilt()


def _setup(settings: Settings) -> AuthSetup:
    fingerprint = _fingerprint(settings)
    return _setups.get(fingerprint, partial(_load_setup, settings, fingerprint))


# -- cookies ---------------------------------------------------------------------------


def _connection() -> object | None:
    """The connection (Streamlit's session client: one websocket) this run serves.

    None without one: bare mode, a run whose websocket closed, AppTest (whose
    stand-in runtime has no request behind it: no headers). A session resumed by
    a new websocket has that websocket's client from then on, and
    `st.context.cookies` are that websocket's cookies."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return None
    client: object | None = runtime.get_instance().get_client(ctx.session_id)
    if client is None or not st.context.headers:
        return None
    return client


def _bind() -> None:
    """This session's login was proven on this run's connection."""
    connection = _connection()
    if connection is not None:
        st.session_state[_CONNECTION_KEY] = weakref.ref(connection)


def _bound(identity: Identity, setup: AuthSetup, db: Database) -> bool:
    """Whether this run's connection may use the login this session holds.

    Yes on the connection it was proven on. On another one (the browser's own
    reconnect, or anyone who learnt the session's id), only if that connection's
    cookie carries this same login; the session is then bound to it."""
    connection = _connection()
    if connection is None:
        return True  # nobody to tell apart: no browser behind this run
    ref = st.session_state.get(_CONNECTION_KEY)
    if isinstance(ref, weakref.ref) and ref() is connection:
        return True
    if not _cookie_carries(identity, setup, db):
        return False
    st.session_state[_CONNECTION_KEY] = weakref.ref(connection)
    return True


def _cookie_carries(identity: Identity, setup: AuthSetup, db: Database) -> bool:
    """Whether this connection's cookie carries the login this session holds."""
    sid = st.session_state.get(_SID_KEY)
    method = st.session_state.get(_METHOD_KEY)
    if method == "anonymous":
        token = read_guest(server_key(db, GUEST_KEY), cookie_jar.read(ANONYMOUS_COOKIE))
        return token is not None and secrets.compare_digest(token, identity.subject)
    if not isinstance(sid, str):
        return False
    if method == "password":
        cookie = setup.cookie
        if cookie is None or not cookie.enabled:
            return False  # no login cookie ([cookie] expiry_days = 0): nothing to prove it
        claims = cookie.read(cookie_jar.read(cookie.name))
        return claims is not None and secrets.compare_digest(claims.session_id, sid)
    if method == "oidc":
        found = _sso_identity_from_user()
        if found is None or found.subject != identity.subject:
            return False
        return secrets.compare_digest(oidc_session_id(st.user.to_dict()), sid)
    return False


def _clear_session(notice: str | None) -> None:
    """Forget everything this session held (not the login itself: its cookie still works
    for the browser that has it), keeping the browser's language."""
    language = st.session_state.get(languages.LANGUAGE_KEY)
    sessions = st.session_state.get(_SESSIONS_KEY)
    settings = st.session_state.get(_SETTINGS_KEY)
    st.session_state.clear()
    if language is not None:
        st.session_state[languages.LANGUAGE_KEY] = language
    for key, value in ((_SESSIONS_KEY, sessions), (_SETTINGS_KEY, settings)):
        if value is not None:  # what `guard` needs until the next full run
            st.session_state[key] = value
    if notice:
        st.session_state[_NOTICE_KEY] = notice


# -- the identity ------------------------------------------------------------------------


def current_identity(settings: Settings, repo: Repository | Database) -> Identity | None:
    """The signed-in identity, or None after rendering the login page or the problems."""
    db = repo.db if isinstance(repo, Repository) else repo
    setup = _setup(settings)
    sessions = LoginSessions(db)
    st.session_state[_SESSIONS_KEY] = sessions
    st.session_state[_SETTINGS_KEY] = settings
    identity = None
    try:
        identity = _identity(settings, setup, sessions, db)
        return identity
    finally:
        _may_upload(identity is not None)
        cookie_jar.render()


def _identity(
    settings: Settings, setup: AuthSetup, sessions: LoginSessions, db: Database
) -> Identity | None:
    if not setup.usable:
        _render_problems(setup)
        return None
    checked = _checked(setup)
    identity = checked or _held(setup, sessions, db)
    if not setup.required:
        held = identity is not None and identity.auth_provider == "anonymous"
        guest = identity if identity is not None and held else _anonymous(db)
        if guest is not checked and _disabled(db, guest):
            st.error(_(DISABLED_GUEST), icon="🚫")
            return None
        return guest
    if identity is None:
        identity = _sso_identity(setup, sessions) or _cookie_identity(setup, sessions)
    if identity is not None and identity is not checked and _disabled(db, identity):
        _refuse_disabled(identity)
        identity = None
    if identity is None:
        identity = _login_page(settings, setup, db, sessions)
    return identity


def _may_upload(signed_in: bool) -> None:
    """Tell the upload gate whether this session has someone signed in (`upload_gate`)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        (upload_gate.allow if signed_in else upload_gate.forbid)(ctx.session_id)


def _held(setup: AuthSetup, sessions: LoginSessions, db: Database) -> Identity | None:
    """The identity this session holds, if it still holds on this connection; else None,
    after forgetting what must go (the login page then says why).

    In order: the connection (`_bound`), disabling (which also ends the logins: asked
    before them, so that the page says why), then the login itself (logged out,
    password changed, the single sign-on allow-list)."""
    identity = st.session_state.get(_IDENTITY_KEY)
    if not isinstance(identity, Identity):
        return None
    guest = identity.auth_provider == "anonymous"
    if not _bound(identity, setup, db):
        log.warning("login: a session was resumed on a connection without its login: cleared")
        _clear_session(None if guest else _(RECONNECTED))
        return None
    if guest:
        if setup.required:  # a deployment that requires a login since this guest came
            _forget_identity()
            return None
        return identity  # a disabled guest is told so by the page, and keeps its identity
    if _disabled(db, identity):
        _refuse_disabled(identity)
        return None
    return _session_identity(setup, sessions)


def guard(fragment: bool) -> bool:
    """Whether a run may go on as the browser asked: called before every run's callbacks
    and every fragment run (`session_guard`), with the checks of `current_identity`.

    A session holding a login goes on while that login holds on this connection
    (see `_held`); a guest while its browser is not disabled. A fragment needs a
    signed-in session. A refused full run still runs (without its callbacks) and
    shows the login page; a refused fragment run becomes a full run."""
    identity = st.session_state.get(_IDENTITY_KEY)
    if not isinstance(identity, Identity):
        return not fragment  # the full run signs in (or shows the login page)
    settings = st.session_state.get(_SETTINGS_KEY)
    sessions = st.session_state.get(_SESSIONS_KEY)
    if not isinstance(settings, Settings) or not isinstance(sessions, LoginSessions):
        return not fragment  # no full run yet: that run checks everything
    st.session_state.pop(_CHECKED_KEY, None)
    try:
        setup = _setup(settings)
        held = _held(setup, sessions, sessions.records.db) if setup.usable else None
        ok = held is not None and (
            held.auth_provider != "anonymous" or not _disabled(sessions.records.db, held)
        )
    except StorageError as exc:  # the full run says so
        log.error("login: the check before a run failed: %s", exc)
        ok = False
    if not ok:
        _may_upload(False)
    else:  # the run's own sign-in check need not ask the database again
        st.session_state[_CHECKED_KEY] = (setup, held, time.monotonic())
    return ok


# How long `guard`'s finding stands for the run it let in: the run's sign-in check comes
# a few milliseconds later, unless the process is very busy (then it asks again).
CHECKED_SECONDS = 1.0


def _checked(setup: AuthSetup) -> Identity | None:
    """The identity `guard` found held, and not disabled, just before this run (under
    the same configuration, and still the session's after the run's callbacks); once."""
    found = st.session_state.pop(_CHECKED_KEY, None)
    if not isinstance(found, tuple):
        return None
    was, identity, when = found
    if (
        was is not setup
        or identity is not st.session_state.get(_IDENTITY_KEY)
        or time.monotonic() - when > CHECKED_SECONDS
    ):
        return None
    return identity if isinstance(identity, Identity) else None


session_guard.install(guard)


def _disabled(db: Database, identity: Identity) -> bool:
    """Asked on every run: a user disabled meanwhile is signed out at their next action."""
    return Admin(db).is_disabled(auth_provider=identity.auth_provider, subject=identity.subject)


def _refuse_disabled(identity: Identity) -> None:
    """End the login of a disabled user; the login page then says why."""
    log.warning("login: %s is disabled: signed out", identity.label)
    if identity.auth_provider == "oidc":
        _revoke_login()
        _forget_identity()
        st.session_state[_NOTICE_KEY] = _(DISABLED)
        st.session_state[_REFUSED_KEY] = True
    else:
        _sign_out(_(DISABLED))


def is_admin(settings: Settings) -> bool:
    """Whether the signed-in person may open the admin page (re-read on every run)."""
    identity = st.session_state.get(_IDENTITY_KEY)
    method = st.session_state.get(_METHOD_KEY)
    if not isinstance(identity, Identity) or method not in ("password", "oidc"):
        return False
    claims = None
    if method == "oidc":
        try:
            claims = st.user.to_dict()
        except Exception:  # no browser behind this run (bare mode)
            return False
    return _setup(settings).admins.is_admin(identity, claims)


def signed_in_as(settings: Settings) -> tuple[frozenset[str], frozenset[str] | None]:
    """Who the assistants' allow-lists see (re-read on every run): the signed-in person's
    names (a password user's login name and e-mail, a single sign-on user's e-mail when
    it counts, lower-cased) and, for single sign-on, their ID token's groups (None
    otherwise). A guest has neither."""
    identity = st.session_state.get(_IDENTITY_KEY)
    method = st.session_state.get(_METHOD_KEY)
    if not isinstance(identity, Identity) or method not in ("password", "oidc"):
        return frozenset(), None
    if method == "password":
        names = {identity.subject.lower(), (identity.email or "").lower()}
        return frozenset(n for n in names if n), None
    try:
        claims = st.user.to_dict()
    except Exception:  # no browser behind this run (bare mode)
        return frozenset(), frozenset()
    oidc = _setup(settings).oidc
    allow = oidc.allow if oidc is not None else AllowList()
    email = allow.verified_email(claims)
    return frozenset({email} if email else ()), allow.groups_of(claims)


def _remember(
    identity: Identity,
    method: str,
    fingerprint: str = "",
    cookie: str | None = None,
    session_id: str | None = None,
) -> Identity:
    st.session_state[_IDENTITY_KEY] = identity
    st.session_state[_METHOD_KEY] = method
    st.session_state[_FINGERPRINT_KEY] = fingerprint
    st.session_state[_COOKIE_NAME_KEY] = cookie
    st.session_state[_SID_KEY] = session_id
    st.session_state.pop(_LOGGED_OUT_KEY, None)
    _bind()
    return identity


def _anonymous(db: Database) -> Identity:
    key = server_key(db, GUEST_KEY)
    # Only a value this server signed names a guest; anything else (forged, guessed,
    # from before signing) starts a new, empty identity.
    token = read_guest(key, cookie_jar.read(ANONYMOUS_COOKIE)) or new_guest_token()
    # (Re)write it every session: the cookie's lifetime starts again at each visit.
    cookie_jar.write(ANONYMOUS_COOKIE, sign_guest(key, token), ANONYMOUS_DAYS * 86400)
    return _remember(Identity("anonymous", token, display_name="Guest"), "anonymous")


def _session_identity(setup: AuthSetup, sessions: LoginSessions) -> Identity | None:
    identity = st.session_state.get(_IDENTITY_KEY)
    method = st.session_state.get(_METHOD_KEY)
    if not isinstance(identity, Identity):
        return None
    sid = st.session_state.get(_SID_KEY)
    if method == "password":
        user = setup.passwords.user(identity.subject) if setup.passwords else None
        if user is None or user.fingerprint != st.session_state.get(_FINGERPRINT_KEY):
            log.info(
                "login: session of %s ended (account removed or password changed)", identity.subject
            )
            _sign_out(_("Your account changed: please log in again."))
            return None
        if not isinstance(sid, str) or not sessions.active(
            sid, auth_provider="password", subject=user.username
        ):
            log.info("login: session of %s ended (logged out elsewhere)", identity.subject)
            _sign_out(_("This login was ended (logged out): please log in again."))
            return None
        return identity
    if (
        method == "oidc"
        and setup.sso_login
        and setup.oidc is not None
        and _oidc_user_matches(identity)
        and setup.oidc.allow.refusal(st.user.to_dict()) is None  # the list may have changed
        and isinstance(sid, str)
        and not sessions.revoked(sid)
    ):
        return identity
    _forget_identity()
    return None


def _oidc_user_matches(identity: Identity) -> bool:
    found = _sso_identity_from_user()
    return found is not None and found.subject == identity.subject


def _sso_identity(setup: AuthSetup, sessions: LoginSessions) -> Identity | None:
    if not setup.sso_login or st.session_state.get(_LOGGED_OUT_KEY):
        return None
    identity = _sso_identity_from_user()
    if identity is None:
        return None
    provider = str(st.user.get("provider") or "default")
    names = {p.name or "default" for p in setup.oidc.providers} if setup.oidc else set()
    if provider not in names:
        return None  # signed in through a provider that is no longer configured
    claims = st.user.to_dict()
    sid = oidc_session_id(claims)
    if sessions.revoked(sid):
        return None  # this login was logged out: a copy of its cookie is refused
    assert setup.oidc is not None
    refusal = setup.oidc.allow.refusal(claims)
    if refusal is not None:
        log.warning("login: single sign-on (%s) refused: %s", provider, refusal.log)
        st.session_state[_NOTICE_KEY] = _refused(refusal)
        st.session_state[_SID_KEY] = sid
        st.session_state[_REFUSED_KEY] = True
        return None
    log.info("login: %s signed in with single sign-on (%s)", identity.label, provider)
    return _remember(identity, "oidc", session_id=sid)


def _sso_identity_from_user() -> Identity | None:
    try:
        if not st.user.is_logged_in:
            return None
        claims = st.user.to_dict()
    except Exception:  # no browser behind this run (bare mode)
        return None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return None
    issuer = claims.get("iss") or claims.get("provider") or "oidc"
    email = claims.get("email")
    name = claims.get("name") or claims.get("preferred_username") or email or ""
    return Identity(
        "oidc",
        oidc_subject(str(issuer), sub),
        display_name=str(name),
        email=str(email) if email else None,
    )


def _cookie_identity(setup: AuthSetup, sessions: LoginSessions) -> Identity | None:
    if not setup.password_login or setup.cookie is None or not setup.cookie.enabled:
        return None
    if st.session_state.get(_LOGGED_OUT_KEY):
        return None
    claims = setup.cookie.read(cookie_jar.read(setup.cookie.name))
    if claims is None:
        return None
    assert setup.passwords is not None
    user = setup.passwords.user(claims.username)
    if user is None or not secrets.compare_digest(user.fingerprint, claims.fingerprint):
        return None
    if not sessions.active(claims.session_id, auth_provider="password", subject=user.username):
        return None  # logged out (or expired) on the server: the cookie is dead
    log.info("login: %s signed in again with the login cookie", user.username)
    identity = Identity("password", user.username, user.name, user.email or None)
    return _remember(identity, "password", user.fingerprint, setup.cookie.name, claims.session_id)


# -- the login page ----------------------------------------------------------------------


def _render_problems(setup: AuthSetup) -> None:
    lines = "\n".join(f"- **{p.setting}**: {p.message}" for p in setup.problems)
    st.error(
        _("Nobody can sign in until the login configuration is fixed (docs/authentication.md):")
        + f"\n\n{lines}",
        icon="🔒",
    )


def _login_page(
    settings: Settings, setup: AuthSetup, db: Database, sessions: LoginSessions
) -> Identity | None:
    page = st.empty()
    with page.container():
        st.header(_("Log in"))
        notice = st.session_state.pop(_NOTICE_KEY, None)
        if st.session_state.pop(_REFUSED_KEY, False):
            # Signed in at the provider, but not on this deployment's allow-list.
            st.error(literal(str(notice)), icon="🚫")  # names the provider's e-mail
            st.button(_("Log in with another account"), key="auth-refused", on_click=_logout_sso)
            return None
        if notice:
            st.info(notice)  # the app's own sentences (a refusal quoting an e-mail is above)
        if setup.sso_login and setup.oidc is not None:
            for provider in setup.oidc.providers:
                st.button(
                    _("Log in with %(provider)s") % {"provider": provider.label},
                    key=f"auth-sso-{provider.name or 'default'}",
                    on_click=_start_sso,
                    args=(provider.name,),
                    type="primary" if not setup.password_login else "secondary",
                )
        identity = None
        if setup.password_login:
            if setup.sso_login:
                st.caption(_("or with a password"))
            identity = _password_form(settings, setup, db, sessions)
    if identity is not None:
        # Signed in: the app is laid out by a run of its own. Drawn in this run, below
        # this page's emptied place, each of its elements would be one place lower than
        # in every later run, and the next run would replace them all: the whole page
        # gone for a moment, as the conversation was when the first answer ended.
        page.empty()
        st.rerun()
    return identity


def _start_sso(provider: str | None) -> None:
    st.session_state.pop(_LOGGED_OUT_KEY, None)
    st.login(provider) if provider else st.login()


# Streamlit writes "Press Enter to submit form" (and, with max_chars, "9/128") under a
# form's focused box, in English: hidden on the login form; Enter still submits, and
# the lengths are checked here instead (MAX_USERNAME, MAX_PASSWORD).
_FORM_CSS = "<style>.st-key-auth-box [data-testid=InputInstructions]{display:none}</style>"
MAX_USERNAME = 64
MAX_PASSWORD = 128


def _password_form(
    settings: Settings, setup: AuthSetup, db: Database, sessions: LoginSessions
) -> Identity | None:
    st.html(_FORM_CSS)  # style only: it takes no space
    with (
        st.container(key="auth-box"),  # the class the style names (a form has none)
        st.form("auth-login", clear_on_submit=False, enter_to_submit=True),
    ):
        username = st.text_input(_("Username"), autocomplete="username")
        password = st.text_input(_("Password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(_("Log in"), type="primary")
    if not submitted:
        return None
    if not username.strip() or not password:
        st.error(_("Enter your username and password."))
        return None
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        st.error(
            _(
                "That username or password is too long: a username has at most %(name)s "
                "characters, a password at most %(password)s."
            )
            % {"name": MAX_USERNAME, "password": MAX_PASSWORD}
        )
        return None
    throttle = LoginThrottle(
        db,
        max_failures=settings.login_max_failures,
        lockout=dt.timedelta(minutes=settings.login_lockout_minutes),
    )
    assert setup.passwords is not None
    admin = Admin(db)
    result = password_login(
        setup.passwords,
        throttle,
        username,
        password,
        disabled=lambda name: admin.is_disabled(auth_provider="password", subject=name),
    )
    user = result.user
    if result.disabled:
        log.warning("login: a disabled account tried to sign in")
        st.error(_(DISABLED), icon="🚫")
        return None
    if user is None:
        # Never the typed name: people type their password into the name box.
        if result.locked:
            if result.checked:
                log.warning(
                    "login: a login name is locked for %d s after repeated wrong passwords",
                    result.state.remaining.total_seconds(),
                )
            _locked_message(_remaining(result.state))
        else:
            log.info("login: wrong username or password")
            left = throttle.max_failures - result.state.failures
            st.error(
                ngettext(
                    "Wrong username or password (%(left)s more attempt before a "
                    "%(minutes)s-minute lock).",
                    "Wrong username or password (%(left)s more attempts before a "
                    "%(minutes)s-minute lock).",
                    left,
                )
                % {"left": left, "minutes": f"{settings.login_lockout_minutes:g}"}
            )
        return None
    log.info("login: %s signed in with a password", user.username)
    cookie = setup.cookie if setup.cookie is not None and setup.cookie.enabled else None
    sid = sessions.start(
        auth_provider="password",
        subject=user.username,
        lifetime=cookie.lifetime if cookie else NO_COOKIE_SESSION,
    )
    if cookie is not None:
        token = cookie.issue(username=user.username, fingerprint=user.fingerprint, session_id=sid)
        cookie_jar.write(cookie.name, token, cookie.max_age_seconds())
    identity = Identity("password", user.username, user.name, user.email or None)
    name = setup.cookie.name if setup.cookie else None
    return _remember(identity, "password", user.fingerprint, name, sid)


def _remaining(state: LockState) -> str:
    """'14 minutes', '1 minute', '30 seconds': how long a lock still holds."""
    seconds = max(1, int(state.remaining.total_seconds() + 0.999))
    if seconds < 60:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = (seconds + 59) // 60
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def _refused(refusal: Refusal) -> str:
    """What a person single sign-on let in, and the allow-list did not, is told."""
    return _(
        "You signed in as %(who)s, which is not allowed to use this app. Ask its "
        "administrator to add you, or log in with another account."
    ) % {"who": refusal.email or _("this account")}


def _locked_message(remaining: str) -> None:
    st.error(
        _("Too many wrong passwords: this account is locked for now. Try again in %(wait)s.")
        % {"wait": remaining},
        icon="⏳",
    )


# -- logging out ----------------------------------------------------------------------------


def logout_control() -> None:
    """The signed-in person and a "Log out" button (for the sidebar); nothing if anonymous."""
    identity = st.session_state.get(_IDENTITY_KEY)
    method = st.session_state.get(_METHOD_KEY)
    if not isinstance(identity, Identity) or method == "anonymous":
        return
    # A name and an e-mail are the person's (or their provider's) to choose: text only.
    shown = identity.email and identity.email != identity.label
    email = f" ({literal(identity.email or '')})" if shown else ""
    st.caption(_("Signed in as %(name)s") % {"name": f"**{literal(identity.label)}**{email}"})
    if method == "oidc":
        st.button(_("Log out"), key="auth-logout", on_click=_logout_sso)
    else:
        st.button(
            _("Log out"), key="auth-logout", on_click=_sign_out, args=(_("You are logged out."),)
        )


def _forget_identity() -> None:
    keys = (_IDENTITY_KEY, _METHOD_KEY, _FINGERPRINT_KEY, _COOKIE_NAME_KEY, _SID_KEY)
    for key in (*keys, _CONNECTION_KEY):
        st.session_state.pop(key, None)


def _revoke_login() -> None:
    """End this login on the server: every copy of its cookie stops working."""
    sessions = st.session_state.get(_SESSIONS_KEY)
    sid = st.session_state.get(_SID_KEY)
    identity = st.session_state.get(_IDENTITY_KEY)
    if not isinstance(sessions, LoginSessions) or not isinstance(sid, str):
        return
    provider = identity.auth_provider if isinstance(identity, Identity) else "oidc"
    subject = identity.subject if isinstance(identity, Identity) else "-"
    sessions.revoke(sid, auth_provider=provider, subject=subject)


def _sign_out(notice: str) -> None:
    """End the password session: revoke it, forget this session's state, delete the cookie."""
    name = st.session_state.get(_COOKIE_NAME_KEY)
    _revoke_login()
    language = st.session_state.get(languages.LANGUAGE_KEY)  # the browser's, not the account's
    st.session_state.clear()
    if language is not None:
        st.session_state[languages.LANGUAGE_KEY] = language
    st.session_state[_LOGGED_OUT_KEY] = True
    st.session_state[_NOTICE_KEY] = notice
    if isinstance(name, str):
        cookie_jar.write(name, "", 0)


def _logout_sso() -> None:
    _revoke_login()
    st.session_state.clear()
    st.logout()
