"""QuantSpec parity: the MLP contract (``ModelCommitment.sol`` decoding) and Python accept
and reject the same quantization specs.

* ``VALID_SPECS``: non-default specs; each gets its own key, commitment and proof, which
  both verifiers accept (and both reject an output word just beyond that spec's
  ``io_bits``, so the statement bound follows the spec on both sides);
* ``INVALID_SPECS``: the six quantization bytes of a commitment replaced by raw values
  (``QuantSpec`` itself refuses to build them): Python's ``ModelCommitment.decode`` raises
  ``UnsafeParameterError(condition)`` and the contract reverts with
  ``UnsafeParameter(condition)``, the same condition named.

To cover a new side condition of ``QuantSpec``, append its cases: a spec it must reject
to ``INVALID_SPECS`` (both verifiers must), one it keeps to ``VALID_SPECS``.
"""
from __future__ import annotations

import pytest
from eth_utils import keccak

import verifier_helpers as vh
from prover import api, keys
from prover.circuit import compile_mlp
from prover.model.mlp import arch_of, build_mlp
from prover.quant import QuantSpec
from prover.rng import seeded
from zkllm_chain.chain import verifier as cv
from zkllm_chain.chain.backend import connect

#: (act_frac, weight_frac, lookup_in_frac, lookup_in_bits, digit_bits, weight_bits): the
#: order of the commitment's quantization bytes (``model/arch.py``).
FIELDS = ("act_frac_bits", "weight_frac_bits", "lookup_in_frac_bits", "lookup_in_bits", "digit_bits", "weight_bits")

VALID_SPECS = {
    "4-bit digits, 8-bit tables": (8, 8, 4, 8, 4, 16),
    "6-bit digits, shifts 6 and 12": (12, 6, 6, 10, 6, 12),
    "2-bit digits, 6-bit tables": (4, 4, 2, 6, 2, 10),
}

INVALID_SPECS = {
    "digit_bits 0": (16, 16, 8, 12, 0, 24),
    "digit_bits 3 does not divide the shifts": (16, 16, 8, 12, 3, 24),
    "digit_bits 17": (17, 17, 0, 12, 17, 24),
    "lookup_in_bits 1": (16, 16, 8, 1, 8, 24),
    "lookup_in_bits 21": (16, 16, 8, 21, 8, 24),
    "weight_bits 1": (16, 16, 8, 12, 8, 1),
    "weight_bits 41": (16, 16, 8, 12, 8, 41),
    "lookup_in_frac 33": (32, 32, 33, 12, 1, 24),
    "act_frac 0": (0, 16, 8, 12, 8, 24),
    "act_frac 33": (33, 16, 9, 12, 8, 24),
    "weight_frac 0": (16, 0, 8, 12, 8, 24),
    "weight_frac 40": (16, 40, 8, 12, 8, 24),
    "lookup shift 0": (16, 16, 32, 12, 8, 24),
    "lookup shift negative": (8, 8, 20, 12, 4, 24),
}


@pytest.fixture(scope="module")
def evm():
    return connect()


def with_quant(enc: bytes, q6: tuple[int, ...]) -> bytes:
    """An MLP commitment with its six quantization bytes replaced."""
    alen = int.from_bytes(enc[6:8], "big")
    end = 8 + alen
    return enc[:end - 6] + bytes(q6) + enc[end:]


def _assert_same(vk, evm, dep, case):
    py, ch = vh.python_verdict(vk, case), vh.chain_verdict(evm, dep, case)
    assert vh.same_outcome(py, ch), f"{case.name}: Python {py[:3]}, contract {ch}"
    return py, ch


@pytest.mark.parametrize("name", sorted(VALID_SPECS))
def test_valid_spec_proves_and_verifies_on_both(evm, name):
    quant = QuantSpec(**dict(zip(FIELDS, VALID_SPECS[name])))
    model = build_mlp(6, 10, 3, "gelu", seed=4)
    n = max(compile_mlp(arch_of(model), quant).num_vars, quant.lookup_in_bits)
    pk = keys.setup(n, quant=quant, rng=seeded(12))
    vk = pk.verifying_key()
    s = vh.build_setup(pk, model, vh.random_input(6, seed=5) * 0.5, quant=quant, seed=7)
    dep = vh.deploy_verifier(evm, vk)
    vh.certify(evm, dep, s)
    case = s.case
    py, ch = _assert_same(vk, evm, dep, case)
    assert ch[0] == "accept", (name, py, ch)
    beyond = 1 << (quant.io_bits - 1)
    py, ch = _assert_same(vk, evm, dep, case.replace("output beyond io_bits", output=[beyond] + case.output[1:]))
    assert py[:3] == ("reject", "MalformedStatementError", ("output", 0)), py
    inside = case.replace("output at io_bits", output=[beyond - 1] + case.output[1:])
    assert vh.python_verdict(vk, inside)[1] == "VerificationError"


@pytest.fixture(scope="module")
def default_case(pk):
    """A commitment of the default spec and its proof (the verdict stops at the commitment)."""
    return vh.build_setup(pk, build_mlp(16, 32, 8, "gelu", seed=5), vh.random_input(16, seed=6), seed=1)


@pytest.fixture(scope="module")
def default_dep(evm, vk):
    return vh.deploy_verifier(evm, vk)


@pytest.mark.parametrize("name", sorted(INVALID_SPECS))
def test_invalid_spec_rejected_by_both(evm, vk, default_case, default_dep, name):
    case = default_case.case
    bad = with_quant(case.commitment, INVALID_SPECS[name])
    py, ch = _assert_same(vk, evm, default_dep, case.replace(name, commitment=bad, model_digest=keccak(bad)))
    assert py[1] == "UnsafeParameterError" and ch[1] == "UnsafeParameter", (name, py, ch)


def test_the_spec_tables_agree():
    """Every valid spec builds, every invalid one is refused by ``QuantSpec`` (or its shifts)."""
    for q6 in VALID_SPECS.values():
        QuantSpec(**dict(zip(FIELDS, q6)))
    for name, q6 in INVALID_SPECS.items():
        with pytest.raises(ValueError):
            QuantSpec(**dict(zip(FIELDS, q6)))
