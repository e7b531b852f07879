"""End to end: the MLP proof verifies and proves exactly the quantized forward pass."""
import pytest
import torch

from prover import api, circuit as circ
from prover.keys import VerifyingKey
from prover.model.commitment import CommittedModel, ModelCommitment
from prover.proof import Proof
from prover.quant import dequantize


def test_mlp_proof_verifies(vk, committed, proved):
    v = api.verify(vk, committed.commitment, proved.statement, proved.proof.to_bytes())
    assert v.statement.output == proved.statement.output


def test_proven_output_equals_quantized_forward(committed, inputs, proved):
    cm = committed.commitment
    c = circ.compile_mlp(cm.arch, cm.quant)
    xq = torch.tensor(proved.statement.input).reshape(1, -1)
    ints = circ.forward(c, committed.params, xq)
    assert ints[c.output_id].reshape(-1).tolist() == proved.statement.output


def test_quantization_error_against_float_model(mlp, inputs, proved):
    ref = mlp(inputs[0])
    err = (proved.output_float.reshape(-1) - ref).abs().max().item()
    assert err < 2e-3, err  # 2^-16 scale, 2^-8 GELU input grid


def test_proof_is_compact(proved):
    assert len(proved.proof.to_bytes()) < 100_000


def test_round_trips_through_files(tmp_path, vk, committed, proved):
    (tmp_path / "vk.json").write_text(vk.to_json())
    (tmp_path / "model.json").write_text(committed.commitment.to_json())
    (tmp_path / "statement.json").write_text(proved.statement.to_json())
    committed.save(tmp_path / "model.pt")
    vk2 = VerifyingKey.from_json((tmp_path / "vk.json").read_text())
    cm2 = ModelCommitment.from_json((tmp_path / "model.json").read_text())
    st2 = api.Statement.from_json((tmp_path / "statement.json").read_text())
    assert vk2.digest() == vk.digest() and cm2.digest() == committed.commitment.digest()
    assert CommittedModel.load(tmp_path / "model.pt").commitment.digest() == cm2.digest()
    raw = proved.proof.to_bytes()
    assert Proof.from_bytes(raw).to_bytes() == raw
    api.verify(vk2, cm2, st2, raw)


def test_batch_of_rows_and_padding(pk, vk, committed, inputs):
    x = torch.stack([inputs[0], inputs[1], inputs[0]])  # 3 rows: padded to 4
    res = api.prove(pk, committed, x)
    api.verify(vk, committed.commitment, res.statement, res.proof.to_bytes())
    assert len(res.statement.output) == 3 * 64


def test_other_activations_and_shapes(pk):
    from prover.model.mlp import build_mlp
    for act in ("relu", "silu"):
        m = build_mlp(24, 40, 10, act, seed=5)  # non-powers of two
        cm = api.commit_model(pk, m)
        x = torch.rand(24, dtype=torch.float64) - 0.5
        res = api.prove(pk, cm, x)
        api.verify(pk.verifying_key(), cm.commitment, res.statement, res.proof.to_bytes())
        assert (res.output_float.reshape(-1) - m(x)).abs().max() < 2e-3


def test_input_outside_table_range_is_a_clear_error(pk, committed):
    from prover.errors import QuantizationRangeError
    with pytest.raises(QuantizationRangeError, match="lookup_in_bits"):
        api.prove(pk, committed, torch.full((64,), 50.0, dtype=torch.float64))


def test_dequantize_matches_scale(committed, proved):
    q = torch.tensor(proved.statement.output)
    assert torch.allclose(dequantize(q, committed.commitment.quant.act_frac_bits), proved.output_float.reshape(-1))


def test_model_commitment_encoding_round_trip_and_rejections(committed):
    from prover.errors import MalformedError
    from prover.model.arch import decode_arch, encode_arch
    cm = committed.commitment
    enc = cm.encode()
    again = ModelCommitment.decode(enc)
    assert again.digest() == cm.digest() and again.names == cm.names
    assert decode_arch(encode_arch(cm.arch, cm.quant)) == (cm.arch, cm.quant)
    for bad in (enc[:-1], enc + b"\0", b"XXXX" + enc[4:], enc[:8] + b"\0" * 12):
        with pytest.raises(MalformedError):
            ModelCommitment.decode(bad)
