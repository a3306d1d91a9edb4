"""Who may use the server, and requests a browser was tricked into sending (CSRF).

* API clients send ``Authorization: Bearer TOKEN`` (the ``[auth] token``).
* People log in on the page with a user name and password (``[auth.users]``, scrypt
  hashes) or the token; they get a session cookie (HttpOnly, SameSite=Strict).
* Without ``[auth]`` the server only listens on loopback (checked at start) and
  everyone on this machine is the user ``local``.

CSRF: a state-changing request that a browser could send on its own is refused
when its Origin (or Sec-Fetch-Site) says another site sent it; a request that
authenticates with the session cookie must also carry the session's CSRF token
in ``X-CSRF-Token`` (the synchronizer token pattern: a page of another site
cannot read it).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from .config import ServeConfig
from .passwords import verify_password

__all__ = ["COOKIE", "Auth", "Identity", "Session"]

COOKIE = "dicomify_session"
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 10_000  # beyond it the oldest go: a flood of page loads cannot fill memory
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Session:
    id: str
    user: str
    csrf: str
    expires: float


@dataclass(frozen=True)
class Identity:
    user: str
    via: str  # "token", "session" or "none" (loopback without authentication)
    session: Session | None = None

    @property
    def owner(self) -> str:
        """Whose staged objects these are: the session's, or the token's / loopback's."""
        return self.session.id if self.session is not None else f"{self.via}:{self.user}"


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Auth:
    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    # -- sessions ------------------------------------------------------------------

    def new_session(self, user: str) -> Session:
        now = time.time()
        session = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now + SESSION_SECONDS)
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.expires < now]:
                del self._sessions[key]
            while len(self._sessions) >= MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]  # dicts keep insertion order: the oldest
            self._sessions[session.id] = session
        return session

    def session_of(self, request: Request) -> Session | None:
        sid = request.cookies.get(COOKIE)
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
        if session is None or session.expires < time.time():
            return None
        return session

    def end_session(self, request: Request) -> None:
        sid = request.cookies.get(COOKIE)
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)

    # -- checks --------------------------------------------------------------------

    def login(self, user: str, password: str) -> str | None:
        """The user name when the credentials are right (a token logs in as ``token``)."""
        if self.config.token and not user and secrets.compare_digest(password, self.config.token):
            return "token"
        hashed = self.config.users.get(user)
        if hashed is not None and verify_password(password, hashed):
            return user
        return None

    def _bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def identify(self, request: Request) -> Identity:
        """Who sent the request, or :class:`AuthError` (401/403)."""
        bearer = self._bearer(request)
        if bearer is not None:
            if self.config.token and secrets.compare_digest(bearer, self.config.token):
                return Identity("token", "token")
            raise AuthError(401, "the bearer token is not valid")
        session = self.session_of(request)
        if session is not None:
            if request.method in _UNSAFE:
                sent = request.headers.get("x-csrf-token", "")
                if not secrets.compare_digest(sent, session.csrf):
                    raise AuthError(403, "the CSRF token is missing or wrong: reload the page")
            return Identity(session.user, "session", session)
        if not self.config.auth_required:
            return Identity("local", "none")
        raise AuthError(401, "authentication needed: log in, or send Authorization: Bearer TOKEN")

    @staticmethod
    def check_origin(request: Request) -> None:
        """Refuse state-changing requests another site's page made a browser send."""
        if request.method not in _UNSAFE:
            return
        if request.headers.get("sec-fetch-site", "") == "cross-site":
            raise AuthError(403, "cross-site requests are refused")
        origin = request.headers.get("origin")
        if origin is None:
            return  # not sent by a browser on another site's behalf (browsers send Origin on POST)
        host = request.headers.get("host", "")
        parts = urlsplit(origin)
        if origin == "null" or parts.netloc != host:
            raise AuthError(403, f"requests from {origin} are refused: use this server's own page")
