"""Llama-family decoder (Llama 2/3, SmolLM2, ...) as a plain float torch module.

One block::

    h = x + Attention(RMSNorm(x))        # RoPE on q and k, grouped-query, causal
    y = h + SwiGLU(RMSNorm(h))           # W_down(silu(W_gate h) * (W_up h))

followed by a final RMSNorm and the LM head (the embedding matrix when tied).
There are no biases. The module runs one unbatched sequence: ``tokens`` is ``(T,)``
and the result is ``(T, vocab)`` logits, in the dtype of the parameters (call
``.double()`` for the float64 reference used by the proof compiler).

RoPE convention: "rotate half" (GPT-NeoX / Hugging Face layout). Within each head of
width ``hd`` the coordinate pairs rotated together are ``(i, i + hd/2)`` for
``i < hd/2``, by the angle ``pos * rope_base ** (-2i/hd)``. This is the layout in which
Hugging Face checkpoints store ``q_proj``/``k_proj``, so their weights load unchanged;
llama.cpp's GGUF files use the interleaved layout (pairs ``(2i, 2i+1)``) and
:func:`prover.model.loaders.unpermute_qk` converts them. The half-split layout keeps
each head's "first" and "second" coordinates in two contiguous blocks, which is also
the simpler shape for a circuit.

``forward(tokens, acts)`` can record every intermediate tensor into the dict ``acts``
(keys such as ``"layers.0.attn.scores"``), for calibration and tests.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .configs import TransformerConfig


def _record(acts: dict | None, name: str, t: torch.Tensor) -> None:
    if acts is not None:
        acts[name] = t.detach()


def rope_cos_sin(n_pos: int, head_dim: int, base: float, dtype=torch.float64,
                 device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the RoPE angles ``pos * base**(-2i/head_dim)``, each ``(n_pos, head_dim/2)``.

    The angles are computed in float64 on the CPU whatever ``dtype`` is, then cast.
    """
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)  # (hd/2,)
    angles = torch.arange(n_pos, dtype=torch.float64)[:, None] * inv_freq[None, :]  # (T, hd/2)
    return angles.cos().to(device, dtype), angles.sin().to(device, dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (..., T, hd) by position, pairing coordinate ``i`` with ``i + hd/2``."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]  # (..., T, hd/2) each
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)  # (..., T, hd)


class RMSNorm(nn.Module):
    """``x / sqrt(mean(x**2) + eps) * weight`` over the last axis."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inv_rms = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)  # (T, 1)
        return x * inv_rms * self.weight  # (T, d)


class Attention(nn.Module):
    """Causal grouped-query self-attention with RoPE on queries and keys."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.wq = nn.Linear(cfg.d_model, cfg.n_heads * hd, bias=False)
        self.wk = nn.Linear(cfg.d_model, cfg.n_kv_heads * hd, bias=False)
        self.wv = nn.Linear(cfg.d_model, cfg.n_kv_heads * hd, bias=False)
        self.wo = nn.Linear(cfg.n_heads * hd, cfg.d_model, bias=False)

    def forward(self, x, cos, sin, acts=None, prefix=""):
        cfg, T = self.cfg, x.shape[0]
        hd = cfg.head_dim
        q = self.wq(x).view(T, cfg.n_heads, hd).transpose(0, 1)  # (H, T, hd)
        k = self.wk(x).view(T, cfg.n_kv_heads, hd).transpose(0, 1)  # (Hkv, T, hd)
        v = self.wv(x).view(T, cfg.n_kv_heads, hd).transpose(0, 1)  # (Hkv, T, hd)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        _record(acts, prefix + "q", q)
        _record(acts, prefix + "k", k)
        _record(acts, prefix + "v", v)
        k = k.repeat_interleave(cfg.kv_groups, dim=0)  # (H, T, hd)
        v = v.repeat_interleave(cfg.kv_groups, dim=0)  # (H, T, hd)
        scores = q @ k.transpose(1, 2) / math.sqrt(hd)  # (H, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # (T, T)
        scores = scores.masked_fill(future, float("-inf"))
        probs = F.softmax(scores, dim=-1)  # (H, T, T)
        _record(acts, prefix + "scores", scores)
        _record(acts, prefix + "probs", probs)
        y = (probs @ v).transpose(0, 1).reshape(T, cfg.n_heads * hd)  # (T, H*hd)
        _record(acts, prefix + "mix", y)
        return self.wo(y)  # (T, d)


class SwiGLU(nn.Module):
    """``W_down(silu(W_gate x) * W_up x)``."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.w_gate = nn.Linear(cfg.d_model, cfg.d_ffn, bias=False)
        self.w_up = nn.Linear(cfg.d_model, cfg.d_ffn, bias=False)
        self.w_down = nn.Linear(cfg.d_ffn, cfg.d_model, bias=False)

    def forward(self, x, acts=None, prefix=""):
        gate = self.w_gate(x)  # (T, ffn)
        up = self.w_up(x)  # (T, ffn)
        h = F.silu(gate) * up  # (T, ffn)
        _record(acts, prefix + "gate", gate)
        _record(acts, prefix + "up", up)
        _record(acts, prefix + "hidden", h)
        return self.w_down(h)  # (T, d)


class Block(nn.Module):
    """Pre-norm transformer block: attention then SwiGLU, each with a residual."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.mlp = SwiGLU(cfg)

    def forward(self, x, cos, sin, acts=None, prefix=""):
        a = self.attn_norm(x)  # (T, d)
        _record(acts, prefix + "attn_norm", a)
        x = x + self.attn(a, cos, sin, acts, prefix + "attn.")  # (T, d)
        _record(acts, prefix + "resid_mid", x)
        m = self.mlp_norm(x)  # (T, d)
        _record(acts, prefix + "mlp_norm", m)
        x = x + self.mlp(m, acts, prefix + "mlp.")  # (T, d)
        _record(acts, prefix + "resid_out", x)
        return x


class Llama(nn.Module):
    """Token embedding, ``n_layers`` blocks, final RMSNorm and LM head."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        if cfg.arch != "llama":
            raise ValueError(f"Llama needs a llama config, got arch={cfg.arch!r}")
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.lm_head = None if cfg.tied_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def head_weight(self) -> torch.Tensor:
        """The ``(vocab, d)`` output projection (the embedding matrix when tied)."""
        return self.tok_emb.weight if self.lm_head is None else self.lm_head.weight

    def forward(self, tokens, acts: dict | None = None) -> torch.Tensor:
        """Logits ``(T, vocab)`` for the token ids ``tokens`` ``(T,)``."""
        tokens = check_tokens(tokens, self.cfg).to(self.tok_emb.weight.device)
        x = self.tok_emb(tokens)  # (T, d)
        _record(acts, "embed", x)
        cos, sin = rope_cos_sin(len(tokens), self.cfg.head_dim, self.cfg.rope_base, x.dtype, x.device)  # (T, hd/2)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, acts, f"layers.{i}.")  # (T, d)
        x = self.norm(x)  # (T, d)
        _record(acts, "final_norm", x)
        logits = x @ self.head_weight().T  # (T, vocab)
        _record(acts, "logits", logits)
        return logits

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> "Llama":
        """Seeded random init that keeps activations moderate (|value| < 8 for random bytes).

        With a unit-RMS input every projection below gives roughly unit-variance outputs:

        * embedding ~ N(0, 1/d): the tied head then maps the unit-RMS final norm to
          logits of standard deviation ~1;
        * ``wq, wk, wv`` ~ N(0, 1/d): q, k, v entries ~N(0, 1), scores q.k/sqrt(hd) ~N(0, 1);
        * ``w_gate, w_up`` ~ N(0, 1/(4d)): gate and up ~N(0, 1/4), so the product
          ``silu(gate) * up`` stays well below 8;
        * ``wo`` ~ N(0, 1/(2L d)), ``w_down`` ~ N(0, 1/(2L ffn)): each block adds a small
          update to the residual stream (GPT-2's 1/sqrt(2L) residual scaling);
        * RMSNorm gains ~ 1 + N(0, 0.1^2), so they are not all ones.
        """
        cfg = self.cfg
        d, ffn, resid = cfg.d_model, cfg.d_ffn, 2 * cfg.n_layers

        def normal(p, std):
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * std)

        normal(self.tok_emb.weight, d ** -0.5)
        for layer in self.layers:
            for w in (layer.attn.wq, layer.attn.wk, layer.attn.wv):
                normal(w.weight, d ** -0.5)
            normal(layer.attn.wo.weight, (resid * d) ** -0.5)
            normal(layer.mlp.w_gate.weight, 0.5 * d ** -0.5)
            normal(layer.mlp.w_up.weight, 0.5 * d ** -0.5)
            normal(layer.mlp.w_down.weight, (resid * ffn) ** -0.5)
        for norm in [self.norm] + [n for layer in self.layers for n in (layer.attn_norm, layer.mlp_norm)]:
            normal(norm.weight, 0.1)
            norm.weight.add_(1.0)
        if self.lm_head is not None:
            normal(self.lm_head.weight, d ** -0.5)
        return self


def check_tokens(tokens, cfg: TransformerConfig) -> torch.Tensor:
    """``tokens`` as a ``(T,)`` int64 tensor with ``1 <= T <= max_seq`` ids in the vocabulary."""
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    if tokens.ndim != 1 or not 1 <= len(tokens) <= cfg.max_seq:
        raise ValueError(f"tokens must have shape (T,) with 1 <= T <= {cfg.max_seq}, got {tuple(tokens.shape)}")
    if int(tokens.min()) < 0 or int(tokens.max()) >= cfg.vocab_size:
        raise ValueError(f"token ids must lie in [0, {cfg.vocab_size})")
    return tokens
