"""Shapes of the decoder-only language models the prover handles.

A :class:`TransformerConfig` fixes everything needed to build a model and to lay
out a proof for it: the architecture family, the widths, the head layout and the
numeric constants of RoPE and the normalisation layers.

``arch`` selects the block structure:

* ``"llama"``: RMSNorm, rotary position embedding (RoPE), grouped-query attention,
  SwiGLU MLP, no biases (:mod:`prover.model.llama`).
* ``"gpt2"``: learned position embeddings, LayerNorm, multi-head attention,
  GELU MLP, biases everywhere (:mod:`prover.model.gpt2`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

ARCHS = ("llama", "gpt2")


@dataclass(frozen=True)
class TransformerConfig:
    """Hyper-parameters of a decoder-only transformer.

    ``n_kv_heads`` < ``n_heads`` means grouped-query attention (llama only): query
    head ``h`` reads key/value head ``h // (n_heads // n_kv_heads)``. ``d_ffn`` is the
    MLP hidden width (SwiGLU: width of the gate and up projections). ``rope_base``
    is unused by ``gpt2``; ``gelu_approx`` ("none" = exact erf GELU, "tanh" = the
    tanh approximation of the original GPT-2) is unused by ``llama``.
    """

    arch: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ffn: int
    vocab_size: int
    max_seq: int
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    tied_embeddings: bool = True
    gelu_approx: str = "none"

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        for name in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ffn", "vocab_size", "max_seq"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads {self.n_heads} is not a multiple of n_kv_heads {self.n_kv_heads}")
        if self.arch == "gpt2" and self.n_kv_heads != self.n_heads:
            raise ValueError("gpt2 uses plain multi-head attention: n_kv_heads must equal n_heads")
        if self.arch == "llama" and self.head_dim % 2:
            raise ValueError(f"RoPE needs an even head_dim, got {self.head_dim}")
        if not self.rope_base > 1.0:
            raise ValueError(f"rope_base must be > 1, got {self.rope_base}")
        if not self.norm_eps > 0.0:
            raise ValueError(f"norm_eps must be > 0, got {self.norm_eps}")
        if self.gelu_approx not in ("none", "tanh"):
            raise ValueError(f"gelu_approx must be 'none' or 'tanh', got {self.gelu_approx!r}")

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.d_model // self.n_heads

    @property
    def kv_groups(self) -> int:
        """Query heads per key/value head."""
        return self.n_heads // self.n_kv_heads

    def with_(self, **changes) -> "TransformerConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


CONFIGS: dict[str, TransformerConfig] = {
    # Byte-level toy models for end-to-end proofs: 16 tokens, vocab = the 256 byte values.
    "tiny-llama": TransformerConfig(arch="llama", n_layers=2, d_model=64, n_heads=4, n_kv_heads=2,
                                    d_ffn=256, vocab_size=256, max_seq=16),
    # tiny-llama's shape with weights trained on the bundled text sample (prover/model/train.py)
    "tiny-llama-text": TransformerConfig(arch="llama", n_layers=2, d_model=64, n_heads=4, n_kv_heads=2,
                                         d_ffn=256, vocab_size=256, max_seq=16),
    "tiny-gpt2": TransformerConfig(arch="gpt2", n_layers=2, d_model=64, n_heads=4, n_kv_heads=4,
                                   d_ffn=256, vocab_size=256, max_seq=16),
    # HuggingFaceTB/SmolLM2-135M(-Instruct). norm_eps is the GGUF metadata value
    # (llama.attention.layer_norm_rms_epsilon, 1e-5 rounded to float32).
    "smollm2-135m": TransformerConfig(arch="llama", n_layers=30, d_model=576, n_heads=9, n_kv_heads=3,
                                      d_ffn=1536, vocab_size=49152, max_seq=8192, rope_base=100000.0,
                                      norm_eps=9.999999747378752e-06, tied_embeddings=True),
}


def get_config(name: str) -> TransformerConfig:
    """The named configuration (see ``CONFIGS``)."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown model config {name!r}; known: {sorted(CONFIGS)}") from None
