"""The verifier's key: digest, stored negations, constructor checks, missing EIP-2537."""
from __future__ import annotations

import pytest

import verifier_helpers as vh
from prover.pcs.curve import g1_to_bytes, g2_to_bytes
from zkllm_chain.chain import verifier as cv
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.errors import TransactionRevertedError

# VerifierKeyData layout
G1_AT, G2_AT, NEG_XI_AT, NEG_TAU_AT = 32, 160, 416, 672


@pytest.fixture(scope="module")
def evm():
    return connect()


@pytest.fixture(scope="module")
def small_vk():
    return vh.small_key(8).verifying_key()


@pytest.fixture(scope="module")
def deployed(evm, small_vk):
    return vh.deploy_verifier(evm, small_vk)


def _deploy_raw(evm, args):
    from zkllm_chain.chain.accounts import load_signer
    from zkllm_chain.chain.contracts import _send

    c = vh.compiled_verifier()
    zero = "0x" + "00" * 20  # the weight range verifier and the opener: the constructor does not call them
    data = evm.w3.eth.contract(abi=c.abi, bytecode=c.bytecode).constructor(*args, zero, zero).data_in_transaction
    return _send(evm, {"to": None, "data": data, "value": 0}, load_signer(evm), "constructor",
                 gas=cv.DEPLOY_GAS, preflight=True, timeout=60)


def test_digest_and_stored_key(evm, deployed, small_vk):
    c = deployed.contract(evm)
    assert bytes(c.functions.vkDigest().call()) == small_vk.digest()
    assert c.functions.keyNumVars().call() == small_vk.srs_vk.num_vars
    assert c.functions.proofSystemId().call().rstrip(b"\0") == b"zkllm-mlp-logup-pst-kzg/v3"
    blob = bytes(evm.w3.eth.get_code(cv.key_store(evm, deployed)))
    assert blob[0] == 0  # STOP: the store is not callable code
    blob = blob[1:]
    svk = small_vk.srs_vk
    n = svk.num_vars
    assert int.from_bytes(blob[:32], "big") == n
    assert blob[G1_AT:G2_AT] == g1_to_bytes(svk.g1)
    assert blob[G2_AT:NEG_XI_AT] == g2_to_bytes(svk.g2)
    assert blob[NEG_XI_AT:NEG_TAU_AT] == g2_to_bytes(-svk.xi_g2)
    for j in range(n):
        assert blob[NEG_TAU_AT + 256 * j:NEG_TAU_AT + 256 * (j + 1)] == g2_to_bytes(-svk.tau_g2[j])
    at = NEG_TAU_AT + 256 * n
    names = sorted(small_vk.tables)
    assert int.from_bytes(blob[at:at + 32], "big") == len(names)
    from eth_utils import keccak
    for i, name in enumerate(names):
        entry = blob[at + 32 + 160 * i:at + 32 + 160 * (i + 1)]
        assert entry[:32] == keccak(name.encode()) and entry[32:] == g1_to_bytes(small_vk.tables[name])


def test_constructor_rejects_malformed_keys(evm, small_vk):
    srs, names, points = cv.verifier_constructor_args(small_vk)
    bad = [
        ((srs[:-1], names, points), "InvalidVerifierKey"),
        ((srs, names, points[:-128]), "InvalidVerifierKey"),
        ((srs, list(reversed(names)), points), "InvalidVerifierKey"),
        ((srs, [names[0], names[0]], points[:256]), "InvalidVerifierKey"),
        # tau_g2[0] with a coordinate off the curve: the G2 MSM precompile refuses it
        ((srs[:416] + srs[416:416 + 255] + bytes([srs[416 + 255] ^ 1]) + srs[416 + 256:], names, points),
         "PrecompileFailed"),
        # a table commitment off the curve
        ((srs, names, points[:-1] + bytes([points[-1] ^ 1])), "PrecompileFailed"),
    ]
    abi = vh.compiled_verifier().abi
    from zkllm_chain.chain.contracts import decode_revert
    for args, expect in bad:
        with pytest.raises(TransactionRevertedError) as ei:
            _deploy_raw(evm, args)
        name = ei.value.error_name or (decode_revert(ei.value.data, [abi]) or [None])[0]
        assert name == expect, (expect, ei.value)


def test_missing_table_is_reported(evm, pk):
    """A key without the model's activation table cannot verify its proofs (Python: SetupError)."""
    from prover.keys import VerifyingKey
    from prover.model.mlp import build_mlp

    vk = pk.verifying_key()
    s = vh.build_setup(pk, build_mlp(8, 8, 4, "silu", seed=1), vh.random_input(8, seed=1), seed=7)
    partial = VerifyingKey(vk.srs_vk, {k: v for k, v in vk.tables.items() if not k.startswith("silu")})
    full = vh.deploy_verifier(evm, vk)  # certifies under the full key (the weight proof needs no table)
    vh.certify(evm, full, s)
    dep = vh.deploy_verifier(evm, partial, weights=cv.weight_verifier_of(evm, full.address))
    py = vh.python_verdict(partial, s.case)
    ch = vh.chain_verdict(evm, dep, s.case)
    assert py[:2] == ("reject", "SetupError")
    assert ch[:2] == ("reject", "MissingTable") and ch[2][0] == "silu_12_8_16"


def test_chain_without_eip2537_fails_loudly(small_vk):
    """On Cancun rules the BLS12-381 addresses are empty accounts: calls "succeed" with no
    output. The verifier refuses to be deployed there instead of trusting them."""
    from eth_tester import EthereumTester, PyEVMBackend
    from eth.vm.forks.cancun import CancunVM
    from web3 import EthereumTesterProvider, Web3

    from zkllm_chain.chain.backend import Chain

    backend = PyEVMBackend(vm_configuration=((0, CancunVM),))
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    chain = Chain(w3=w3, kind="embedded", chain_id=w3.eth.chain_id,
                  dev_keys=tuple(k.to_bytes() for k in backend.account_keys))
    with pytest.raises(TransactionRevertedError) as ei:
        _deploy_raw(chain, cv.verifier_constructor_args(small_vk))
    from zkllm_chain.chain.contracts import decode_revert
    dec = decode_revert(ei.value.data, [vh.compiled_verifier().abi]) if ei.value.data else None
    name = ei.value.error_name or (dec[0] if dec else None)
    assert name == "PrecompileFailed", ei.value
