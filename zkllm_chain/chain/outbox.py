"""Transactions in flight, remembered on disk, so that re-running a command resumes it.

A command that sends transactions on a JSON-RPC chain with a records directory (``zkllm deploy``,
``register``, ``attest``...) writes each signed transaction here *before* broadcasting it:
``<records>/<chainId>/outbox/<key>.json``, where ``key`` names the intent (chain, sender,
target, value, calldata). When the same command runs again -- after the node died, the receipt
never came, or the process was killed -- a transaction with the same intent is not signed
again: its recorded hash is looked up and

* mined (and still canonical): its receipt is used, nothing is sent;
* pending: it is awaited;
* unknown to the node (dropped by a reorg or a node restart) while its nonce is still free:
  the *same signed bytes* are broadcast again, so it can be mined at most once;
* unknown while its nonce was used by another transaction: it can never be mined, so the
  intent is sent afresh.

Entries of mined transactions stay until the command that sent them finishes
(:meth:`Outbox.finish`), so a command of several transactions resumes at the first one not
mined. A command that fails leaves its entries; delete the folder to forget them.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

__all__ = ["Outbox", "intent_key"]


def intent_key(chain_id: int, sender: str, to: str | None, value: int, data: bytes | str) -> str:
    """The name of one intended transaction: the same call by the same account on the same chain."""
    from eth_utils import keccak
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    head = f"{int(chain_id)}|{str(sender).lower()}|{(to or '').lower()}|{int(value)}|".encode()
    return keccak(head + bytes(data)).hex()[:40]


class Outbox:
    """The remembered transactions of one chain (a folder of small JSON files)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._touched: set[str] = set()

    def _file(self, key: str) -> Path:
        return self.path / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            entry = json.loads(self._file(key).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # a torn or foreign file: it names nothing we can resume
            return None
        return entry if isinstance(entry, dict) and {"hash", "raw", "nonce"} <= set(entry) else None

    def put(self, key: str, entry: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self._file(key).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**entry, "updated": int(time.time())}, sort_keys=True) + "\n")
        os.replace(tmp, self._file(key))
        self._touched.add(key)

    def drop(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)
        self._touched.discard(key)

    def finish(self) -> None:
        """The command succeeded: forget every transaction it sent or resumed."""
        for key in list(self._touched):
            self.drop(key)

    def pending(self) -> list[dict]:
        """Every remembered entry (for reports)."""
        if not self.path.is_dir():
            return []
        out = []
        for f in sorted(self.path.glob("*.json")):
            entry = self.get(f.stem)
            if entry is not None:
                out.append(entry)
        return out
