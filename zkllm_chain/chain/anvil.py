"""A local anvil node (Foundry's dev chain) for tests and demos.

The binary comes from the npm package ``@foundry-rs/anvil`` (installed by
``scripts/install_node_tools.sh``), from ``ZKLLM_ANVIL``, or from ``anvil`` on ``PATH``.

>>> with AnvilNode() as node:
...     chain = node.connect()
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ._node import ANVIL_VERSION, INSTALL_HINT, find_package
from .backend import Chain, connect_rpc
from .errors import AnvilError

__all__ = ["AnvilNode", "find_anvil", "ANVIL_VERSION"]

_PLATFORM_PACKAGES = {
    ("linux", "x86_64"): "anvil-linux-amd64",
    ("linux", "amd64"): "anvil-linux-amd64",
    ("linux", "aarch64"): "anvil-linux-arm64",
    ("linux", "arm64"): "anvil-linux-arm64",
    ("darwin", "x86_64"): "anvil-darwin-amd64",
    ("darwin", "arm64"): "anvil-darwin-arm64",
    ("win32", "amd64"): "anvil-win32-amd64",
    ("win32", "x86_64"): "anvil-win32-amd64",
}


def find_anvil() -> Path:
    """Path of the anvil binary; raises :class:`AnvilError` with the fix if there is none."""
    env = os.environ.get("ZKLLM_ANVIL")
    if env:
        p = Path(env)
        if p.is_file() and os.access(p, os.X_OK):
            return p
        raise AnvilError(f"ZKLLM_ANVIL={p} is not an executable file")
    key = (sys.platform, platform.machine().lower())
    pkg_name = _PLATFORM_PACKAGES.get(key)
    if pkg_name:
        pkg = find_package(f"@foundry-rs/{pkg_name}", ANVIL_VERSION)
        if pkg:
            exe = pkg / "bin" / ("anvil.exe" if sys.platform == "win32" else "anvil")
            if exe.is_file():
                if not os.access(exe, os.X_OK):
                    exe.chmod(exe.stat().st_mode | 0o111)
                return exe
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilError(f"anvil {ANVIL_VERSION} is not installed (no {pkg_name or 'binary for this platform'} "
                     f"in node_modules and none on PATH); {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        doc = json.loads(resp.read())
    if "error" in doc:
        raise AnvilError(f"{method} failed: {doc['error']}")
    return doc["result"]


class AnvilNode:
    """An anvil process on 127.0.0.1 (Osaka rules by default, as mainnet since Fusaka: the EIP-7825
    per-transaction gas cap is enforced, and EIP-2537 BLS12-381 precompiles exist).

    Start it with :meth:`start` or a ``with`` block; :meth:`connect` gives a
    :class:`~zkllm_chain.chain.backend.Chain` whose ``dev_keys`` are anvil's funded accounts.
    """

    def __init__(self, *, port: int | None = None, chain_id: int = 31337, hardfork: str = "osaka",
                 accounts: int = 10, block_gas_limit: int | None = 60_000_000,
                 extra_args: list[str] | None = None, binary: str | os.PathLike | None = None,
                 startup_timeout: float = 30.0, tx_gas_cap: bool = True):
        self.port = port
        self._requested_port = port
        self.chain_id = chain_id
        self.hardfork = hardfork
        self.accounts = accounts
        self.block_gas_limit = block_gas_limit
        self.extra_args = list(extra_args or [])
        # EIP-7825 (live on mainnet since Fusaka): no transaction may ask for more than
        # TX_GAS_CAP gas; enforced by default so the tests see what mainnet nodes do
        self.tx_gas_cap = tx_gas_cap
        self.binary = Path(binary) if binary else None
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._keys: tuple[bytes, ...] = ()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        if self.port is None:
            raise AnvilError("anvil is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def dev_keys(self) -> tuple[bytes, ...]:
        return self._keys

    def start(self) -> "AnvilNode":
        if self.running:
            return self
        exe = self.binary or find_anvil()
        fixed_port = self._requested_port is not None
        last = ""
        for _ in range(1 if fixed_port else 3):  # a random free port may be taken meanwhile
            port = self._requested_port if fixed_port else _free_port()
            try:
                self._launch(exe, port)
                return self
            except AnvilError as exc:
                last = str(exc)
                if "in use" not in last.lower():
                    raise
        raise AnvilError(last)

    def _launch(self, exe: Path, port: int) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="zkllm-anvil-")
        tmp = Path(self._tmp.name)
        config = tmp / "config.json"
        log_path = tmp / "anvil.log"
        cmd = [
            str(exe), "--host", "127.0.0.1", "--port", str(port), "--hardfork", self.hardfork,
            "--chain-id", str(self.chain_id), "--accounts", str(self.accounts),
            "--config-out", str(config), *self.extra_args,
        ]
        if self.block_gas_limit:
            cmd += ["--gas-limit", str(self.block_gas_limit)]
        if self.tx_gas_cap:
            cmd.append("--enable-tx-gas-limit")
        log = open(log_path, "wb")
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        except OSError as exc:
            log.close()
            self._cleanup()
            raise AnvilError(f"cannot run {exe}: {exc.strerror or exc}") from None
        finally:
            if not log.closed:
                log.close()
        self.port = port
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self._log_tail(log_path)
                self._proc = None
                self._cleanup()
                self.port = self._requested_port
                raise AnvilError(f"anvil exited with code {code} during startup: {tail}")
            try:
                got = int(_rpc(url, "eth_chainId", timeout=1.0), 16)
                if config.is_file():
                    break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError, AnvilError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                self.port = self._requested_port
                raise AnvilError(f"anvil did not answer eth_chainId on {url} within {self.startup_timeout:g}s")
            time.sleep(0.05)
        if got != self.chain_id:
            self.stop()
            raise AnvilError(f"anvil on {url} reports chain id {got}, expected {self.chain_id}")
        try:
            keys = json.loads(config.read_text()).get("private_keys", [])
            self._keys = tuple(bytes.fromhex(k.removeprefix("0x")) for k in keys)
        except (OSError, ValueError):
            self._keys = ()
        # the config file holds private keys: do not leave it around
        config.unlink(missing_ok=True)

    @staticmethod
    def _log_tail(path: Path, limit: int = 400) -> str:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        tail = " | ".join(lines[-3:])
        return tail[-limit:] or "(no output)"

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the node (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "AnvilNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort; normal code uses stop() or a with block
        try:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
        except Exception:
            pass

    # ------------------------------------------------------------------ use
    def connect(self, expected_chain_id: int | None = None, timeout: float = 10.0) -> Chain:
        """A :class:`Chain` on this node whose ``dev_keys`` are anvil's funded accounts."""
        if not self.running:
            raise AnvilError("anvil is not running")
        return connect_rpc(self.url, expected_chain_id, timeout=timeout, dev_keys=self._keys)

    def rpc(self, method: str, *params):
        """A raw JSON-RPC call (e.g. ``evm_snapshot``, ``anvil_setBalance``)."""
        return _rpc(self.url, method, list(params), timeout=30.0)
