"""Fixtures of the chain tests.

``chain`` runs a test on both backends: the embedded eth-tester chain and a local anvil
node. Anvil tests are skipped only when ZKLLM_SKIP_ANVIL=1; a missing anvil otherwise
fails them (install it with scripts/install_node_tools.sh).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
try:
    import zkllm_chain  # noqa: F401
except ImportError:  # plain `pytest` without an installed package
    sys.path.insert(0, str(HERE.parents[1]))

from zkllm_chain.chain.accounts import dev_signers
from zkllm_chain.chain.anvil import AnvilNode
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.errors import AnvilError
from zkllm_chain.chain.registry import ModelRegistry

SKIP_ANVIL = os.environ.get("ZKLLM_SKIP_ANVIL") == "1"


@pytest.fixture(scope="session")
def anvil_node():
    if SKIP_ANVIL:
        pytest.skip("ZKLLM_SKIP_ANVIL=1")
    node = AnvilNode()
    try:
        node.start()
    except AnvilError as exc:  # not a skip: CI must have anvil
        pytest.fail(f"{exc} (set ZKLLM_SKIP_ANVIL=1 to skip the anvil runs)", pytrace=False)
    yield node
    node.stop()


@pytest.fixture(params=["embedded", "anvil"])
def chain(request):
    """A chain with funded dev accounts; anvil state is rolled back after each test."""
    if request.param == "embedded":
        yield connect()
        return
    node: AnvilNode = request.getfixturevalue("anvil_node")
    snapshot = node.rpc("evm_snapshot")
    try:
        yield node.connect(expected_chain_id=31337)
    finally:
        node.rpc("evm_revert", snapshot)


@pytest.fixture
def signers(chain):
    """Funded signers: [0] deploys and owns by default."""
    return dev_signers(chain)


@pytest.fixture
def registry(chain, signers):
    return ModelRegistry.deploy(chain, signer=signers[0])
