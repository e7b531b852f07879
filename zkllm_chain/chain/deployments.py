"""Deployment records: ``<directory>/<chainId>/<Contract>.json``.

For live chains ``directory`` defaults to ``deployments`` (relative to the working
directory). For development chains -- the embedded chain and chain ids 31337 / 1337 --
nothing is written unless the caller names a directory, so tests and demos never leave
files in the checkout.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .accounts import Signer, load_signer
from .backend import Chain
from .contracts import Deployment, deploy
from .errors import ArtifactError

__all__ = ["DEFAULT_DIRECTORY", "deployment_record", "outbox_for", "write_deployment", "read_deployment", "checked_address",
           "check_writable",
           "deploy_stack", "Stack"]

DEFAULT_DIRECTORY = Path("deployments")


def deployment_record(chain: Chain, d: Deployment, deployer: str | None = None) -> dict:
    from eth_utils import keccak
    art = d.artifact
    return {
        "codeKeccak256": "0x" + keccak(bytes(chain.w3.eth.get_code(d.address))).hex(),
        "contract": d.name,
        "address": d.address,
        "chainId": chain.chain_id,
        "txHash": d.tx_hash,
        "blockNumber": d.block_number,
        "gasUsed": d.gas_used,
        "deployer": deployer,
        "compiler": {"version": art.compiler_version, "settings": art.settings},
        "bytecodeKeccak256": art.bytecode_hash,
        "deployedBytecodeKeccak256": art.deployed_bytecode_hash,
        "sources": art.sources,
    }


def _target(chain: Chain, directory: str | os.PathLike | None) -> Path | None:
    if directory is None:
        if chain.is_dev:
            return None
        directory = DEFAULT_DIRECTORY
    return Path(directory) / str(chain.chain_id)


def outbox_for(chain: Chain, directory: str | os.PathLike | None = None):
    """The :class:`~zkllm_chain.chain.outbox.Outbox` of ``chain`` under the records directory
    (``<directory>/<chainId>/outbox``), or None where no records are kept (the embedded chain, a
    development chain without ``directory``)."""
    from .outbox import Outbox
    base = _target(chain, directory)
    if base is None or chain.is_embedded:
        return None
    return Outbox(base / "outbox")


def write_deployment(chain: Chain, d: Deployment, directory: str | os.PathLike | None = None,
                     deployer: str | None = None, *, force: bool = False) -> Path | None:
    """Writes the record of ``d``; returns its path, or None when nothing is written
    (a development chain without an explicit ``directory``). An existing record is replaced
    only with ``force`` (``ArtifactError`` otherwise), and then kept under ``history/``."""
    base = _target(chain, directory)
    if base is None:
        return None
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{d.name}.json"
    if path.exists():
        if not force:
            raise ArtifactError(f"{path} exists: deploying again would replace it (pass --force; the old record is "
                                f"kept under {base / 'history'})")
        old = base / "history" / f"{d.name}.{int(path.stat().st_mtime_ns)}.json"
        old.parent.mkdir(exist_ok=True)
        os.replace(path, old)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(deployment_record(chain, d, deployer), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def read_deployment(chain_id: int, name: str, directory: str | os.PathLike = DEFAULT_DIRECTORY) -> dict:
    path = Path(directory) / str(int(chain_id)) / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"no deployment record {path}") from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read deployment record {path}: {exc}") from None


def check_writable(chain: Chain, names, directory: str | os.PathLike | None = None, *, force: bool = False) -> None:
    """Before deploying: ``ArtifactError`` if a record of one of ``names`` exists and
    ``force`` is off (so a refused deploy spends nothing)."""
    base = _target(chain, directory)
    if base is None or force:
        return
    for name in names:
        if (base / f"{name}.json").exists():
            raise ArtifactError(f"{base / (name + '.json')} exists: deploying again would replace it (pass --force; "
                                f"the old record is kept under {base / 'history'})")


def checked_address(chain: Chain, record: dict) -> str:
    """The recorded address, after checking that the chain holds the recorded contract there:
    ``ArtifactError`` if it has no code (a reset development chain, records of another chain)
    or other code than when it was deployed (``codeKeccak256``)."""
    from eth_utils import keccak, to_checksum_address
    address = to_checksum_address(record["address"])
    code = bytes(chain.w3.eth.get_code(address))
    name = record.get("contract", "contract")
    if not code:
        raise ArtifactError(f"no contract at {address} (the recorded {name}): the chain was reset or the records "
                            f"are another chain's; deploy again (with --force)")
    want = record.get("codeKeccak256")
    if want and "0x" + keccak(code).hex() != want:
        raise ArtifactError(f"the code at {address} is not the recorded {name}'s")
    return address


@dataclass
class Stack:
    """The deployed contracts of one chain, by name, and the records written."""

    deployments: dict[str, Deployment] = field(default_factory=dict)
    records: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Deployment:
        return self.deployments[name]


def deploy_stack(chain: Chain, *, signer: Signer | None = None, consumer_reward_wei: int | None = None,
                 directory: str | os.PathLike | None = None, force: bool = False) -> Stack:
    """Deploys ModelRegistry and InferenceAttestations (and ExampleConsumer when
    ``consumer_reward_wei`` is given) and writes their records (see the module docstring)."""
    signer = signer or load_signer(chain)
    stack = Stack()
    reg = deploy(chain, "ModelRegistry", signer=signer)
    stack.deployments["ModelRegistry"] = reg
    att = deploy(chain, "InferenceAttestations", reg.address, signer=signer)
    stack.deployments["InferenceAttestations"] = att
    if consumer_reward_wei is not None:
        stack.deployments["ExampleConsumer"] = deploy(chain, "ExampleConsumer", att.address,
                                                      int(consumer_reward_wei), signer=signer)
    for name, d in stack.deployments.items():
        path = write_deployment(chain, d, directory, deployer=signer.address, force=force)
        if path is not None:
            stack.records[name] = path
    return stack


def main(argv: list[str] | None = None) -> int:
    """``python -m zkllm_chain.chain.deployments``: deploy the contracts from their artifacts."""
    import argparse
    import sys

    from .backend import connect
    from .errors import ChainError

    parser = argparse.ArgumentParser(prog="python -m zkllm_chain.chain.deployments",
                                     description="Deploy ModelRegistry and InferenceAttestations from the "
                                                 "committed artifacts and write deployment records.")
    parser.add_argument("--rpc-url", default=os.environ.get("ZKLLM_RPC_URL"),
                        help="JSON-RPC endpoint (default: ZKLLM_RPC_URL; none: the embedded chain)")
    parser.add_argument("--chain-id", type=int, default=None, help="refuse to deploy unless the node reports this id")
    parser.add_argument("--out", type=Path, default=None,
                        help="records directory (default: ./deployments for live chains, none for dev chains)")
    parser.add_argument("--consumer-reward-wei", type=int, default=None,
                        help="also deploy ExampleConsumer paying this reward per claim")
    parser.add_argument("--keystore", default=None, help="encrypted keystore (password in ZKLLM_KEYSTORE_PASSWORD)")
    args = parser.parse_args(argv)
    try:
        chain = connect(args.rpc_url, args.chain_id)
        signer = load_signer(chain, keystore=args.keystore)
        stack = deploy_stack(chain, signer=signer, consumer_reward_wei=args.consumer_reward_wei,
                             directory=args.out)
    except ChainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"chain {chain.chain_id} ({'embedded' if chain.is_embedded else chain.url}), deployer {signer.address}")
    for name, d in stack.deployments.items():
        record = stack.records.get(name)
        print(f"{name:22} {d.address}  gas {d.gas_used:>9}  tx {d.tx_hash}" + (f"  -> {record}" if record else ""))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
