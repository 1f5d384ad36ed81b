"""Who may command: one bearer token per role, a role being a person aboard or a ground.

The roles of a run are its crew (named by their channel slug, ``gordon-barrett``) and the
two grounds, ``houston`` and ``moscow`` (:data:`issim.control.authority.GROUNDS`).

Tokens come from, in order:

1. the environment: ``ISSIM_TOKEN_<ROLE>``, the role in capitals with ``-`` as ``_``
   (``ISSIM_TOKEN_GORDON_BARRETT``, ``ISSIM_TOKEN_HOUSTON``);
2. the tokens file, JSON ``{role: token}``: ``$ISSIM_TOKENS`` if set, else
   ``tokens.json`` in the user's config folder (``platformdirs``; on Linux
   ``~/.config/issim/tokens.json``).

A role that has no token yet is given one (:func:`secrets.token_urlsafe`) and written to the
file, which is created with mode 0600; the server says where. A tokens file that others
may read is refused, as ssh refuses such a key. Tokens are compared with
:func:`hmac.compare_digest`, against every role's, so the time taken does not say which
role came close.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Mapping, Optional

from ..errors import InputError

FILE_ENV = "ISSIM_TOKENS"
ROLE_ENV = "ISSIM_TOKEN_"
MIN_LENGTH = 16  # a token shorter than this is refused: it could be guessed


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_config_path("issim") / "tokens.json"


def env_name(role: str) -> str:
    return ROLE_ENV + role.upper().replace("-", "_")


class Tokens:
    """``{role: token}`` and the look-up of a role by its token."""

    def __init__(self, tokens: Mapping[str, str], path: Optional[Path] = None, created: tuple = ()):
        self.tokens = dict(tokens)
        self.path = path
        self.created = tuple(created)  # the roles given a new token when loaded

    def role(self, token: Optional[str]) -> Optional[str]:
        """The role whose token this is, else ``None`` (every role's compared, in constant time)."""
        if not token:
            return None
        given = token.encode("utf-8", "surrogateescape")
        found = None
        for role, mine in self.tokens.items():
            if hmac.compare_digest(given, mine.encode()):
                found = role
        return found


def load(roles, path: "str | Path | None" = None, env: Optional[Mapping[str, str]] = None,
         create: bool = True) -> Tokens:
    """The tokens of ``roles`` (see the module); missing ones made and saved when ``create``."""
    env = os.environ if env is None else env
    path = Path(path) if path is not None else Path(env[FILE_ENV]) if env.get(FILE_ENV) else default_path()
    stored = _read(path)
    tokens, created = {}, []
    for role in roles:
        token = env.get(env_name(role)) or stored.get(role)
        if token is None and create:
            token = stored[role] = secrets.token_urlsafe(32)
            created.append(role)
        if token is not None:
            if len(token) < MIN_LENGTH:
                raise InputError(env_name(role) if env.get(env_name(role)) else str(path),
                                 f"the token of {role} is shorter than {MIN_LENGTH} characters")
            tokens[role] = token
    if created:
        _write(path, stored)
    return Tokens(tokens, path, created)


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    if not path.is_file():
        raise InputError(str(path), "is not a tokens file")
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(str(path), f"others may read it (mode {stat.S_IMODE(mode):o}): run chmod 600 on it")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(str(path), f"not a tokens file ({exc}): JSON {{role: token}} expected") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(str(path), "not a tokens file: JSON {role: token} expected")
    return data


def _write(path: Path, tokens: dict) -> None:
    """Write the file with mode 0600 from the start (never readable by others, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
