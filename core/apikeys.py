"""API keys of the intake API: one key per source (who sends events), kept in a workspace setting.

A key is ``secrets.token_urlsafe(32)``: 32 random bytes, so guessing one or finding one from its hash
is as hard as guessing 256 bits. That is why the key is stored as its plain SHA-256 hash: a slow,
salted password hash (bcrypt, scrypt) only helps against guessing low-entropy secrets people choose,
and would cost milliseconds on every request. The key itself is shown once, by ``create_key``; the
setting holds its hash, when it was made, whether it was revoked and its last 4 characters (so a
person can tell keys apart in ``list_keys``).

``source_of`` finds the source of a key by comparing hashes with ``hmac.compare_digest`` (constant
time). It reads the setting at most once a second per workspace and keeps what it derived from it
keyed by the setting's content, so a revoked key stops working within a second without every request
re-reading the store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import GridWatchError
from core.store import Store

__all__ = ["SETTING", "KeyInfo", "create_key", "key_state", "list_keys", "revoke_key", "source_of"]

SETTING = "api_keys"
"""The workspace setting holding {source: {hash, created_at, revoked, last4}}."""

_SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_RECHECK_S = 1.0
_lock = threading.Lock()
_read: dict[str, tuple[float, str]] = {}  # workspace -> (when read, setting as JSON)
_derived: dict[str, list[tuple[bytes, str, bool]]] = {}  # setting as JSON -> [(hash, source, revoked)]


@dataclass(frozen=True)
class KeyInfo:
    """What ``list_keys`` shows of a key: never the key, only its last 4 characters."""

    source: str
    created_at: str
    revoked: bool
    last4: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _keys(store: Store) -> dict[str, dict]:
    saved = store.get_setting(SETTING, {})
    return dict(saved) if isinstance(saved, dict) else {}


def _workspace_key(store: Store) -> str:
    return str(getattr(store, "path", store.name))


def _forget(store: Store) -> None:
    with _lock:
        _read.pop(_workspace_key(store), None)


def create_key(store: Store, source: str) -> str:
    """A new key for ``source`` (replacing any earlier one, which stops working); returned once."""
    if not isinstance(source, str) or not _SOURCE.match(source):
        raise GridWatchError(
            f"source name {source!r} may only use letters, digits, '_', '.' and '-' (at most 40)",
            code="source_invalid",
            params={"name": str(source)},
        )
    key = secrets.token_urlsafe(32)
    keys = _keys(store)
    keys[source] = {
        "hash": _hash(key),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revoked": False,
        "last4": key[-4:],
    }
    store.set_setting(SETTING, keys)
    _forget(store)
    return key


def revoke_key(store: Store, source: str) -> None:
    """Stop ``source``'s key from working (it stays listed, as revoked)."""
    keys = _keys(store)
    if source not in keys:
        raise GridWatchError(
            f"workspace `{store.name}` has no API key for source `{source}`; `gridwatch apikey list` shows them",
            code="source_unknown",
            params={"name": source, "workspace": store.name},
        )
    keys[source] = {**keys[source], "revoked": True}
    store.set_setting(SETTING, keys)
    _forget(store)


def list_keys(store: Store) -> list[KeyInfo]:
    """Every source's key, by source name: when it was made, whether revoked, its last 4 characters."""
    return [
        KeyInfo(source, str(entry.get("created_at", "")), bool(entry.get("revoked")), str(entry.get("last4", "")))
        for source, entry in sorted(_keys(store).items())
    ]


def source_of(store: Store, key: str | None) -> str | None:
    """The source whose live (not revoked) key ``key`` is, or None."""
    source, revoked = key_state(store, key)
    return None if revoked else source


def key_state(store: Store, key: str | None) -> tuple[str | None, bool]:
    """(source, revoked) of ``key``: (None, False) for a key that was never issued."""
    if not key:
        return None, False
    where, now = _workspace_key(store), time.monotonic()
    with _lock:
        seen = _read.get(where)
    if seen is None or now - seen[0] > _RECHECK_S:
        seen = (now, json.dumps(_keys(store), sort_keys=True))
        with _lock:
            _read[where] = seen
    content = seen[1]
    known = _derived.get(content)
    if known is None:
        known = [
            (bytes.fromhex(entry["hash"]), source, bool(entry.get("revoked")))
            for source, entry in json.loads(content).items()
            if isinstance(entry, dict) and isinstance(entry.get("hash"), str)
        ]
        with _lock:
            if len(_derived) > 64:
                _derived.clear()
            _derived[content] = known
    given = hashlib.sha256(key.encode("utf-8", "replace")).digest()
    found: tuple[str | None, bool] = (None, False)
    for digest, source, revoked in known:  # compare with every key, so the time does not tell which matched
        if hmac.compare_digest(digest, given):
            found = (source, revoked)
    return found
