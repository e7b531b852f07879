"""The text-trained tiny model (tiny-llama-text): readable next bytes, proven."""
import torch

from prover.model.loaders import load_named
from prover.model.train import sample_bytes
from prover.rng import seeded
from prover.transformer import prove as tp
from prover.transformer.compile import compile_model, forward
from prover.transformer.presets import tquant_for


def test_quantized_model_continues_the_sample_text():
    m = load_named("tiny-llama-text")
    tq = tquant_for("tiny-llama-text")
    params = tp.quantize_llama(m, tq)
    text = sample_bytes()
    c = compile_model(m.cfg, 16, tq)
    starts = range(0, len(text) - 17, (len(text) - 17) // 20)
    hits = sum(int(forward(c, params, torch.tensor(text[s:s + 16]))["next"][0]) == text[s + 16] for s in starts)
    assert hits >= 0.8 * len(starts), f"{hits}/{len(starts)}"


def test_proof_of_a_readable_next_byte_verifies():
    m = load_named("tiny-llama-text")
    pk = tp.setup(m.cfg, rng=seeded(31))
    cm = tp.commit_model(pk, m, rng=seeded(32))
    prompt = list(b"The harbour town")
    res = tp.prove(pk, cm, prompt, rng=seeded(33))
    tp.verify(pk.verifying_key(), cm.commitment, res.statement, res.proof.to_bytes())
    assert chr(res.statement.next_token) == " "  # "The harbour town woke ..."
