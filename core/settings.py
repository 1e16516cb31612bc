"""Settings read from the environment, each with the default that works out of the box.

| variable | default | meaning |
|---|---|---|
| ``GRIDWATCH_HOME`` | ``./var`` | data directory: workspaces live in ``<home>/workspaces/`` |
| ``GRIDWATCH_DB`` | unset | a ``postgresql://`` URL selects the PostGIS store (``core.postgis``): one schema ``gw_<name>`` per workspace; the database needs ``CREATE EXTENSION postgis`` |
| ``GRIDWATCH_TILES`` | unset | basemap tile URL template (``{z}/{x}/{y}``); unset = no basemap, works offline |
| ``GRIDWATCH_TILES_ATTRIBUTION`` | ``""`` | attribution shown with those tiles |
| ``GRIDWATCH_REFRESH_SECONDS`` | ``2`` | how often the command center checks the store for a new version or new events |
| ``GRIDWATCH_READ_MEMORY_MB`` | ``1024`` | memory a worker reading one uploaded file may use, in MB (at least 64) |
| ``GRIDWATCH_READ_SECONDS`` | ``60`` | time a worker reading one uploaded file may take, in seconds (at least 1) |
| ``GRIDWATCH_ALLOWED_HOSTS`` | ``127.0.0.1,localhost`` | the Host names the dashboard answers (a reverse proxy's name goes here); any other gets 400 |
| ``GRIDWATCH_SESSION_MINUTES`` | ``30`` | a signed-in session ends after this many minutes without use (at least 1) |
| ``GRIDWATCH_SSO_METADATA_URL`` | unset | an OpenID Connect provider's discovery URL (``…/.well-known/openid-configuration``): the sign-in page offers single sign-on through it |
| ``GRIDWATCH_SSO_CLIENT_ID`` / ``GRIDWATCH_SSO_CLIENT_SECRET`` | unset | GridWatch's client at that provider (both needed with the URL) |
| ``GRIDWATCH_SSO_REDIRECT_URI`` | ``http://127.0.0.1:{port}/oauth2callback`` | the address the provider sends the browser back to (registered at the provider; ends in ``/oauth2callback``) |
| ``GRIDWATCH_SSO_CLAIM`` | ``email`` | the identity claim that is matched to an account's linked identity |
| ``GRIDWATCH_SSO_LABEL`` | ``single sign-on`` | the provider's name on the sign-in button |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

__all__ = [
    "SingleSignOn",
    "allowed_hosts",
    "database_url",
    "home",
    "read_memory_mb",
    "read_seconds",
    "refresh_seconds",
    "session_minutes",
    "single_sign_on",
    "tile_attribution",
    "tile_url",
]


def home() -> Path:
    """The data directory (created on first use)."""
    path = Path(os.environ.get("GRIDWATCH_HOME", "var")).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"GRIDWATCH_HOME={str(path)!r} cannot be created ({exc.strerror}); point it at a writable directory",
            code="home_not_writable",
            params={"path": str(path), "reason": exc.strerror},
        ) from exc
    return path


def database_url() -> str | None:
    """The PostGIS URL from ``GRIDWATCH_DB``, or None for the embedded GeoPackage store."""
    url = os.environ.get("GRIDWATCH_DB", "").strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"GRIDWATCH_DB must be a postgresql:// URL, got {url[:40]!r}",
            code="database_url",
            params={"value": url[:40]},
        )
    return url or None


def tile_url() -> str | None:
    """The basemap tile URL template, or None to draw without a basemap."""
    url = os.environ.get("GRIDWATCH_TILES", "").strip()
    if url and not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise ConfigError(
            f"GRIDWATCH_TILES must contain {{z}}, {{x}} and {{y}}, got {url!r}", code="tile_url", params={"value": url}
        )
    return url or None


def tile_attribution() -> str:
    return os.environ.get("GRIDWATCH_TILES_ATTRIBUTION", "")


def refresh_seconds() -> float:
    """Seconds between the command center's checks for a new workspace version or new events (at least
    1). A check is two indexed reads, so the default keeps a posted ticket on the map within 5 s."""
    text = os.environ.get("GRIDWATCH_REFRESH_SECONDS", "2").strip()
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(
            f"GRIDWATCH_REFRESH_SECONDS must be a number of seconds, got {text!r}",
            code="refresh_not_number",
            params={"value": text},
        ) from None
    if not seconds >= 1:
        raise ConfigError(
            f"GRIDWATCH_REFRESH_SECONDS must be at least 1, got {text!r}",
            code="refresh_too_short",
            params={"value": text},
        )
    return seconds


def allowed_hosts() -> list[str]:
    """The Host names the dashboard answers (``dashboard.server``), without ports."""
    text = os.environ.get("GRIDWATCH_ALLOWED_HOSTS", "127.0.0.1,localhost")
    return [host.strip() for host in text.split(",") if host.strip()] or ["127.0.0.1"]


def session_minutes() -> float:
    """Minutes a signed-in session may go unused before it ends (``core.accounts``)."""
    return _number("GRIDWATCH_SESSION_MINUTES", "30", 1)


@dataclass(frozen=True)
class SingleSignOn:
    """The OpenID Connect provider the sign-in page offers (``GRIDWATCH_SSO_*``)."""

    metadata_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    claim: str
    label: str


def single_sign_on() -> SingleSignOn | None:
    """The configured single sign-on, or None (accounts sign in with their passwords only)."""
    url = os.environ.get("GRIDWATCH_SSO_METADATA_URL", "").strip()
    if not url:
        return None
    client_id = os.environ.get("GRIDWATCH_SSO_CLIENT_ID", "").strip()
    client_secret = os.environ.get("GRIDWATCH_SSO_CLIENT_SECRET", "").strip()
    redirect = os.environ.get("GRIDWATCH_SSO_REDIRECT_URI", "").strip() or "http://127.0.0.1:{port}/oauth2callback"
    missing = [name for name, value in (("CLIENT_ID", client_id), ("CLIENT_SECRET", client_secret)) if not value]
    if missing:
        raise ConfigError(
            f"single sign-on needs GRIDWATCH_SSO_{missing[0]} as well as GRIDWATCH_SSO_METADATA_URL",
            code="sso_incomplete",
            params={"variable": f"GRIDWATCH_SSO_{missing[0]}"},
        )
    if not url.startswith(("https://", "http://")) or not redirect.endswith("/oauth2callback"):
        raise ConfigError(
            "GRIDWATCH_SSO_METADATA_URL must be an http(s) URL and GRIDWATCH_SSO_REDIRECT_URI must end in /oauth2callback",
            code="sso_address",
            params={"value": (url if not url.startswith(("https://", "http://")) else redirect)[:80]},
        )
    return SingleSignOn(
        metadata_url=url,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect,
        claim=os.environ.get("GRIDWATCH_SSO_CLAIM", "").strip() or "email",
        label=os.environ.get("GRIDWATCH_SSO_LABEL", "").strip() or "single sign-on",
    )


def _number(variable: str, default: str, least: float) -> float:
    text = os.environ.get(variable, default).strip()
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"{variable} must be a number, got {text!r}",
            code="setting_not_number",
            params={"variable": variable, "value": text},
        ) from None
    if not value >= least:
        raise ConfigError(
            f"{variable} must be at least {least:g}, got {text!r}",
            code="setting_too_small",
            params={"variable": variable, "least": f"{least:g}", "value": text},
        )
    return value


def read_memory_mb() -> int:
    """Megabytes of memory the worker that reads one uploaded file may use (``core.sandbox``)."""
    return int(_number("GRIDWATCH_READ_MEMORY_MB", "1024", 64))


def read_seconds() -> float:
    """Seconds the worker that reads one uploaded file may take before it is stopped (``core.sandbox``)."""
    return _number("GRIDWATCH_READ_SECONDS", "60", 1)
