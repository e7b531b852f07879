"""Pooled witness layout (TQuant.pool_witness, the default): the committed advice in a few
aligned pools, the range lookup with one column per pool. Same statement as the per-tensor
layout (still supported, tested here), far fewer commitments."""
import dataclasses

import pytest
import torch

from prover.errors import MalformedProofError, VerificationError
from prover.model.loaders import build_model
from prover.rng import seeded
from prover.transformer import prove as tp
from prover.transformer.compile import POOL_SLACK, TQuant, compile_model
from tests.op_harness import altered_proof, item_cases, lenient_multiplicities, swap_layers

REJECT = (VerificationError, MalformedProofError)
TQ = TQuant(pool_witness=True)


def _tokens(seed, n):
    return torch.randint(0, 256, (n,), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def setup():
    m = build_model("tiny-llama", 0)
    pk = tp.setup(m.cfg, TQ, rng=seeded(41))
    return m, pk, pk.verifying_key(), tp.commit_model(pk, m, TQ, rng=seeded(42))


@pytest.fixture(scope="module")
def proved(setup):
    m, pk, vk, cm = setup
    return tp.prove(pk, cm, _tokens(3, 11), rng=seeded(43))


def test_pools_hold_every_member_exactly_once_at_aligned_offsets(setup):
    cfg = setup[0].cfg
    c = compile_model(cfg, 11, TQ)
    plain = compile_model(cfg, 11, TQuant(pool_witness=False))
    members = [t for ms in c.pools.values() for t, _ in ms]
    assert sorted(members) == sorted(plain.witness) and c.witness == list(c.pools)
    for pid, ms in c.pools.items():
        cap = c.specs[pid].shape[0]
        used = sum(1 << c.specs[t].num_vars for t, _ in ms)
        group = [p for p in c.pools if p[:6] == pid[:6]]  # pool/a* or pool/d*
        # exactly full, or its group's last pool, zero-padded, wasting at most 1/POOL_SLACK of the group
        total = sum(1 << c.specs[t].num_vars for q in group for t, _ in c.pools[q])
        assert used == cap or (pid == group[-1] and (cap - used) * POOL_SLACK <= total)
        blocks = sorted((off, off + (1 << c.specs[t].num_vars)) for t, off in ms)
        assert all(a[1] <= b[0] for a, b in zip(blocks, blocks[1:])) and blocks[-1][1] <= cap
        for t, off in ms:
            assert off % (1 << c.specs[t].num_vars) == 0
    # tiny-llama's digits just overflow 2^18: a full 2^18 pool and one padded pool for the rest
    assert [p for p in c.pools if p.startswith("pool/d")] == ["pool/d0", "pool/d1"]
    assert c.specs["pool/d0"].shape == (1 << 18,) and c.specs["pool/d1"].shape[0] < 1 << 12
    rng = [lk for lk in c.lookups if not lk.pair and lk.table.name.startswith("range")][0]
    assert all(col[0].startswith("pool/d") for col in rng.columns)


def test_pooled_proof_verifies_and_is_smaller(setup, proved):
    m, pk, vk, cm = setup
    tp.verify(vk, cm.commitment, proved.statement, proved.proof.to_bytes())
    assert len(proved.proof.g1s) < 80
    assert proved.statement.next_token == int(m(torch.tensor(proved.statement.tokens))[-1].argmax())


def test_altered_proof_items_rejected(setup, proved):
    m, pk, vk, cm = setup
    for kind, idx, label in item_cases(proved.layout):
        with pytest.raises(REJECT):
            tp.verify(vk, cm.commitment, proved.statement, altered_proof(proved.proof, kind, idx))


def test_wrong_next_token_rejected(setup, proved):
    m, pk, vk, cm = setup
    st = dataclasses.replace(proved.statement, next_token=(proved.statement.next_token + 1) % 256)
    with pytest.raises(REJECT):
        tp.verify(vk, cm.commitment, st, proved.proof.to_bytes())


def test_cheating_provers_rejected(setup, monkeypatch):
    m, pk, vk, cm = setup
    tok = _tokens(4, 11)
    c = compile_model(m.cfg, len(tok), TQ)

    def swap(ints):  # layer inputs of layer 0 and 1 traded
        swap_layers(c, ints, ["X"])

    def digit(ints):  # one rescale digit moved by one: the quotient relation breaks
        t = ints["q.q.d0"].clone()
        t.view(-1)[5] = (t.view(-1)[5] + 1) % 256
        ints["q.q.d0"] = t

    def out_of_range(ints):  # d0 + 256, d1 - 1: the rescale relation holds, only the pooled range lookup fails
        d0, d1 = ints["up.q.d0"].clone(), ints["up.q.d1"].clone()
        d0.view(-1)[3] += 256
        d1.view(-1)[3] -= 1
        ints["up.q.d0"], ints["up.q.d1"] = d0, d1
    lenient_multiplicities(monkeypatch)
    for hook in (swap, digit, out_of_range):
        res = tp.prove(pk, cm, tok, rng=seeded(44), witness_hook=hook)
        with pytest.raises(VerificationError):
            tp.verify(vk, cm.commitment, res.statement, res.proof.to_bytes())


def test_per_tensor_layout_still_verifies_and_is_larger(setup, proved):
    m = setup[0]
    tq = TQuant(pool_witness=False)
    pk = tp.setup(m.cfg, tq, rng=seeded(45), max_rows=11)
    cm = tp.commit_model(pk, m, tq, rng=seeded(46))
    res = tp.prove(pk, cm, _tokens(3, 11), rng=seeded(47))
    tp.verify(pk.verifying_key(), cm.commitment, res.statement, res.proof.to_bytes())
    assert res.statement.next_token == proved.statement.next_token
    assert len(res.proof.g1s) > 4 * len(proved.proof.g1s)
