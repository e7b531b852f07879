"""Transaction signers.

Where the key comes from, first match wins:

1. an encrypted keystore (JSON, as written by geth / ``eth_account``): the ``keystore``
   argument or ``ZKLLM_KEYSTORE``, with its password in ``ZKLLM_KEYSTORE_PASSWORD``;
2. a hex private key in ``ZKLLM_PRIVATE_KEY``;
3. on a development chain (embedded, or a local anvil started by this package), its first
   funded account.

Keys are never printed, logged, or put in error messages; a :class:`Signer` shows only its
address.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import MissingKeyError

__all__ = [
    "PRIVATE_KEY_ENV",
    "KEYSTORE_ENV",
    "KEYSTORE_PASSWORD_ENV",
    "Signer",
    "signer_from_key",
    "signer_from_keystore",
    "load_signer",
    "default_signer",
    "dev_signers",
    "random_signer",
]

PRIVATE_KEY_ENV = "ZKLLM_PRIVATE_KEY"
KEYSTORE_ENV = "ZKLLM_KEYSTORE"
KEYSTORE_PASSWORD_ENV = "ZKLLM_KEYSTORE_PASSWORD"


class Signer:
    """Signs transactions for one account; only ``address`` is visible."""

    __slots__ = ("address", "_account")

    def __init__(self, account: LocalAccount):
        self.address: str = account.address
        self._account = account

    def sign_transaction(self, tx: Mapping[str, Any]):
        return self._account.sign_transaction(dict(tx))

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("Signer holds a private key and cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signer) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)


def signer_from_key(key: str | bytes, *, source: str = "the private key") -> Signer:
    """A signer for a 32-byte private key (hex string, with or without 0x, or bytes)."""
    try:
        if isinstance(key, str):
            key = key.strip()
        return Signer(Account.from_key(key))
    except Exception:  # never echo the key material
        raise MissingKeyError(f"{source} is not a valid 32-byte hex private key") from None


def signer_from_keystore(path: str | os.PathLike, password: str | None = None, *,
                         env: Mapping[str, str] | None = None) -> Signer:
    """Decrypts a keystore file; ``password`` defaults to ``ZKLLM_KEYSTORE_PASSWORD``."""
    env = os.environ if env is None else env
    p = Path(path)
    if password is None:
        password = env.get(KEYSTORE_PASSWORD_ENV)
        if password is None:
            raise MissingKeyError(f"keystore {p} needs its password in {KEYSTORE_PASSWORD_ENV}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MissingKeyError(f"cannot read keystore {p}: {type(exc).__name__}") from None
    try:
        key = Account.decrypt(doc, password)
    except ValueError:
        raise MissingKeyError(f"cannot decrypt keystore {p}: wrong password or corrupt file") from None
    except Exception as exc:
        raise MissingKeyError(f"cannot decrypt keystore {p}: {type(exc).__name__}") from None
    return Signer(Account.from_key(key))


def dev_signers(chain) -> list[Signer]:
    """Signers for the funded development accounts of ``chain`` (empty on live chains)."""
    return [Signer(Account.from_key(k)) for k in getattr(chain, "dev_keys", ())]


def default_signer(chain) -> Signer:
    """The first funded development account of ``chain``."""
    keys = getattr(chain, "dev_keys", ())
    if not keys:
        raise MissingKeyError(
            f"no signing key: set {PRIVATE_KEY_ENV}, or {KEYSTORE_ENV} and {KEYSTORE_PASSWORD_ENV}"
        )
    return Signer(Account.from_key(keys[0]))


def load_signer(chain=None, *, keystore: str | os.PathLike | None = None,
                env: Mapping[str, str] | None = None) -> Signer:
    """The signer configured by arguments and environment (see the module docstring)."""
    env = os.environ if env is None else env
    path = keystore if keystore is not None else env.get(KEYSTORE_ENV) or None
    if path is not None:
        return signer_from_keystore(path, env=env)
    key = env.get(PRIVATE_KEY_ENV)
    if key:
        return signer_from_key(key, source=PRIVATE_KEY_ENV)
    if chain is not None and getattr(chain, "dev_keys", ()):
        return default_signer(chain)
    raise MissingKeyError(
        f"no signing key: set {PRIVATE_KEY_ENV}, or {KEYSTORE_ENV} and {KEYSTORE_PASSWORD_ENV}"
    )


def random_signer() -> Signer:
    """A fresh random (unfunded) account."""
    return Signer(Account.create())
