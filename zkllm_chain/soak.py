"""Fault injection: many attestations against a local anvil while the node dies and reorgs.

``python -m zkllm_chain.soak --attestations 200 --submitters 4 --kills 3 --reorgs 3`` sets up a
small MLP, proves one inference per statement (each bound to the submitter that will post it),
deploys and registers through the CLI, then runs the submitters concurrently: each posts its
statements with ``zkllm attest`` (a real subprocess, as an operator would run it) and runs the
same command again whenever it exits 2. Meanwhile the node is stopped and restarted on the same
port (its state persisted with ``--state``), and reorgs that drop the newest blocks are
injected with ``anvil_reorg``, at evenly spread points of the run. Blocks come every
``--block-time`` seconds and attestations wait for ``--confirmations`` blocks, deeper than
any injected reorg.

Afterwards every statement is audited on the chain and the report counts: attestations
wanted and present, lost (not attested), duplicated (statements with more than one mined
``attest`` transaction), commands and their exit codes, retries, transactions resumed from an
earlier run or re-sent after a fault, and commands whose exit 2 was not one line (or that
exited otherwise). The figures are printed as JSON; exit status 0 only when nothing was lost,
duplicated or misreported.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class SoakReport:
    attestations: int
    submitters: int
    kills: int = 0
    reorgs: int = 0
    present: int = 0
    lost: int = 0
    duplicated: int = 0
    attest_txs_mined: int = 0
    commands: int = 0
    exit_codes: dict = field(default_factory=dict)
    retries: int = 0
    resumed: int = 0
    re_sent: int = 0
    misreported: list = field(default_factory=list)  # commands with a traceback / several lines / other codes
    gave_up: int = 0
    errors_seen: dict = field(default_factory=dict)  # exit-2 lines (hashes and numbers masked) -> count
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.present == self.attestations and self.lost == 0 and self.duplicated == 0
                and not self.misreported and self.gave_up == 0)


def _cli(args: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zkllm_chain.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=timeout)


def _json_out(p: subprocess.CompletedProcess) -> dict:
    if p.returncode != 0:
        raise RuntimeError(f"zkllm {p.args[3:5]} failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _prepare(work: Path, n: int, addresses: list[str], log) -> tuple[Path, Path, list[tuple[Path, Path]]]:
    """Keys, a committed MLP and ``n`` proofs, statement ``i`` bound to ``addresses[i % len]``."""
    import torch

    from prover import api, keys, store
    from prover.attester import parse
    from prover.model.mlp import build_mlp
    pk = keys.setup(12)
    store.save_params(pk, work / "params")
    cm = api.commit_model(pk, build_mlp(8, 16, 8, "relu", seed=0))
    store.save_model(cm, work / "model")
    store.save_weights_proof(work / "model", api.prove_weights(pk, cm))
    pk = store.load_params(work / "params", cm.commitment.quant)
    out = []
    for i in range(n):
        g = torch.Generator().manual_seed(1000 + i)
        x = torch.rand(8, dtype=torch.float64, generator=g) * 2 - 1
        res = api.prove(pk, cm, x, attester=parse(addresses[i % len(addresses)]))
        proof = work / "proofs" / f"p{i}.bin"
        proof.parent.mkdir(exist_ok=True)
        proof.write_bytes(res.proof.to_bytes())
        st = proof.with_suffix(".statement.json")
        st.write_text(res.statement.to_json())
        out.append((proof, st))
        if (i + 1) % 25 == 0 or i + 1 == n:
            log(f"proved {i + 1}/{n} statements")
    return work / "params", work / "model", out


class _Faults(threading.Thread):
    """Stops and restarts the node, or reorgs it, each time progress passes the next mark."""

    def __init__(self, node, progress, total: int, kills: int, reorgs: int, depth: int, down_s: float, log):
        super().__init__(daemon=True)
        self.node, self.progress, self.total = node, progress, total
        plan = ["kill"] * kills + ["reorg"] * reorgs
        plan = [plan[i // 2] if i % 2 == 0 else plan[-(i // 2) - 1] for i in range(len(plan))]  # interleave
        self.plan = plan
        self.depth, self.down_s, self.log = depth, down_s, log
        self.done: Counter = Counter()
        self.stop_event = threading.Event()
        self.lock = threading.Lock()  # held while the node is down or reorging

    def _busy(self, wait_s: float = 20.0) -> None:
        """Waits (a while) until the newest block holds a transaction, so that the fault hits
        one in flight: a reorg then drops it, a restart interrupts its confirmation wait."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not self.stop_event.is_set():
            try:
                if self.node.rpc("eth_getBlockByNumber", "latest", False)["transactions"]:
                    return
            except Exception:
                pass
            time.sleep(0.05)

    def run(self) -> None:
        for k, what in enumerate(self.plan):
            mark = (k + 1) * self.total // (len(self.plan) + 1)
            while self.progress() < mark:
                if self.stop_event.wait(0.2):
                    return
            self._busy()
            if what == "kill":
                self.log(f"fault: stopping the node at {self.progress()}/{self.total} attestations")
                self.node.stop()
                time.sleep(self.down_s)
                self.node.start()
                self.log("fault: node restarted")
            else:
                head = int(self.node.rpc("eth_blockNumber"), 16)
                self.node.rpc("anvil_reorg", self.depth, [])
                self.log(f"fault: reorg of the newest {self.depth} blocks at height {head}")
            self.done[what] += 1


def run_soak(attestations: int = 200, submitters: int = 4, kills: int = 3, reorgs: int = 3, reorg_depth: int = 2,
             confirmations: int = 3, block_time: float = 1.0, down_s: float = 3.0, max_tries: int = 40,
             workdir: str | os.PathLike | None = None, log=lambda m: None) -> SoakReport:
    from .chain.anvil import AnvilNode, _free_port
    from .chain.backend import connect_rpc
    from .chain.accounts import signer_from_key
    if attestations < 1 or not 1 <= submitters <= 9 or min(kills, reorgs) < 0 or reorg_depth < 1 or block_time <= 0:
        raise ValueError("need --attestations >= 1, 1 <= --submitters <= 9 (anvil funds 10 accounts), --kills and "
                         "--reorgs >= 0, --reorg-depth >= 1 and --block-time > 0")
    if reorg_depth >= confirmations:
        raise ValueError("--reorg-depth must be below --confirmations: a reorg deeper than the confirmations a "
                         "command waits for may remove what it reported done")
    tmp = None if workdir else tempfile.TemporaryDirectory(prefix="zkllm-soak-")
    work = Path(workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    node = AnvilNode(port=_free_port(), extra_args=["--state", str(work / "anvil-state.json"),
                                                    "--block-time", f"{block_time:g}"])
    node.start()
    try:
        keys = ["0x" + bytes(k).hex() for k in node.dev_keys[:submitters + 1]]
        addrs = [signer_from_key(k).address for k in keys]
        params, model, proofs = _prepare(work, attestations, addrs[1:], log)
        chain_args = ["--rpc-url", node.url, "--deployments", str(work / "deployments"),
                      "--confirmations", str(confirmations), "--json", "--quiet"]
        operator = {"ZKLLM_PRIVATE_KEY": keys[0]}
        _json_out(_cli(["deploy", "--vk", str(params / "vk.json"), *chain_args], operator, 600))
        model_id = _json_out(_cli(["register", "--vk", str(params / "vk.json"), "--commitment", str(model),
                                   *chain_args], operator, 600))["model_id"]
        log(f"deployed and registered model {model_id}; {submitters} submitters start")
        report = SoakReport(attestations, submitters)
        codes: Counter = Counter()
        lock = threading.Lock()
        finished = [0]

        def submitter(s: int) -> None:
            env = {"ZKLLM_PRIVATE_KEY": keys[s + 1]}
            for i in range(s, attestations, submitters):
                proof, st = proofs[i]
                args = ["attest", "--model-id", str(model_id), "--commitment", str(model), "--statement", str(st),
                        "--proof", str(proof), *chain_args[:-1]]  # progress lines on stderr: count resumes
                for attempt in range(max_tries):
                    p = _cli(args, env, 300)
                    lines = [ln.strip() for ln in p.stderr.splitlines() if ln.strip()]
                    notes = [ln for ln in lines if not ln.startswith("error:")]
                    errors = [ln for ln in lines if ln.startswith("error:")]
                    with lock:
                        report.commands += 1
                        codes[p.returncode] += 1
                        report.resumed += sum(ln.startswith("resumed ") for ln in notes)
                        report.re_sent += sum(ln.startswith("re-sent ") for ln in notes)
                        for ln in errors:
                            kind = re.sub(r"0x[0-9a-fA-F]+|\d+(\.\d+)?", "#", ln)[:160]
                            report.errors_seen[kind] = report.errors_seen.get(kind, 0) + 1
                        bad = p.returncode not in (0, 2) or (p.returncode == 2 and len(errors) != 1) or \
                            any(not ln.startswith(("sent ", "resumed ", "re-sent ", "error:")) for ln in lines)
                        if bad:
                            report.misreported.append({"code": p.returncode, "stderr": p.stderr[-600:]})
                    if p.returncode == 0:
                        break
                    with lock:
                        report.retries += 1
                    time.sleep(0.5)
                else:
                    with lock:
                        report.gave_up += 1
                with lock:
                    finished[0] += 1
                    if finished[0] % 25 == 0:
                        log(f"attested {finished[0]}/{attestations}")

        faults = _Faults(node, lambda: finished[0], attestations, kills, reorgs, reorg_depth, down_s, log)
        faults.start()
        threads = [threading.Thread(target=submitter, args=(s,)) for s in range(submitters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        faults.stop_event.set()
        faults.join()
        report.kills, report.reorgs = faults.done["kill"], faults.done["reorg"]
        report.exit_codes = {str(k): v for k, v in sorted(codes.items())}
        _audit(connect_rpc(node.url, 31337), work, model_id, proofs, report)
        report.seconds = round(time.perf_counter() - t0, 1)
        return report
    finally:
        node.stop()
        if tmp is not None:
            tmp.cleanup()


def _audit(chain, work: Path, model_id: int, proofs, report: SoakReport) -> None:
    """Counts on the chain itself: statements attested, and mined ``attest`` calls per statement."""
    from eth_utils import function_signature_to_4byte_selector

    from prover import api
    from .chain.attestations import InferenceAttestations, words_hash
    from .chain.deployments import read_deployment
    from .service import statement_words
    address = read_deployment(chain.chain_id, "InferenceAttestations", work / "deployments")["address"]
    att = InferenceAttestations(chain, address)
    by_input: dict[bytes, int] = {}
    for i, (_, st) in enumerate(proofs):
        words_in, words_out = statement_words(api.Statement.from_json(st.read_text()))
        if att.is_attested(model_id, words_in, words_out):
            report.present += 1
        by_input[words_hash(words_in)] = i
    report.lost = report.attestations - report.present
    sel = function_signature_to_4byte_selector("attest(uint256,bytes,uint256[],uint256[],bytes)")
    mined: Counter = Counter()
    for n in range(int(chain.w3.eth.block_number) + 1):
        for tx in chain.w3.eth.get_block(n, full_transactions=True)["transactions"]:
            data = bytes(tx["input"])
            if tx.get("to") and tx["to"].lower() == address.lower() and data[:4] == sel:
                fn = att.contract.decode_function_input(data)[1]
                mined[words_hash(fn["input"])] += 1
    report.attest_txs_mined = sum(mined.values())
    report.duplicated = sum(1 for k, v in mined.items() if v > 1 and k in by_input)
    if att.attestation_count() != report.present:
        report.misreported.append({"audit": f"attestationCount {att.attestation_count()} != {report.present}"})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m zkllm_chain.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--attestations", type=int, default=200)
    p.add_argument("--submitters", type=int, default=4)
    p.add_argument("--kills", type=int, default=3, help="node stops and restarts (default 3)")
    p.add_argument("--reorgs", type=int, default=3, help="injected reorgs (default 3)")
    p.add_argument("--reorg-depth", type=int, default=2)
    p.add_argument("--confirmations", type=int, default=3)
    p.add_argument("--block-time", type=float, default=1.0)
    p.add_argument("--workdir", help="keep the files here (default: a temporary directory)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    log = (lambda m: None) if a.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        r = run_soak(a.attestations, a.submitters, a.kills, a.reorgs, a.reorg_depth, a.confirmations, a.block_time,
                     workdir=a.workdir, log=log)
    except (ValueError, RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({**asdict(r), "ok": r.ok}))
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
