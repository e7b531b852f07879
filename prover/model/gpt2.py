"""GPT-2 decoder as a plain float torch module.

One block::

    h = x + Attention(LayerNorm(x))      # causal multi-head, biased projections
    y = h + MLP(LayerNorm(h))            # W_proj gelu(W_fc h + b_fc) + b_proj

with token + learned position embeddings in front and a final LayerNorm and the
LM head (the token embedding matrix when tied, as in GPT-2) behind. ``tokens`` is
``(T,)``, the result ``(T, vocab)`` logits in the parameters' dtype. GELU is the exact
erf form unless the config asks for the tanh approximation (``gelu_approx="tanh"``,
the original GPT-2 checkpoints).

``forward(tokens, acts)`` can record the intermediate tensors into the dict ``acts``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .configs import TransformerConfig
from .llama import check_tokens


def _record(acts: dict | None, name: str, t: torch.Tensor) -> None:
    if acts is not None:
        acts[name] = t.detach()


class Attention(nn.Module):
    """Causal multi-head self-attention with biased q, k, v and output projections."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.wq = nn.Linear(cfg.d_model, cfg.d_model)
        self.wk = nn.Linear(cfg.d_model, cfg.d_model)
        self.wv = nn.Linear(cfg.d_model, cfg.d_model)
        self.wo = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x, acts=None, prefix=""):
        cfg, T = self.cfg, x.shape[0]
        H, hd = cfg.n_heads, cfg.head_dim
        q = self.wq(x).view(T, H, hd).transpose(0, 1)  # (H, T, hd)
        k = self.wk(x).view(T, H, hd).transpose(0, 1)  # (H, T, hd)
        v = self.wv(x).view(T, H, hd).transpose(0, 1)  # (H, T, hd)
        scores = q @ k.transpose(1, 2) / math.sqrt(hd)  # (H, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # (T, T)
        scores = scores.masked_fill(future, float("-inf"))
        probs = F.softmax(scores, dim=-1)  # (H, T, T)
        _record(acts, prefix + "q", q)
        _record(acts, prefix + "k", k)
        _record(acts, prefix + "v", v)
        _record(acts, prefix + "scores", scores)
        _record(acts, prefix + "probs", probs)
        y = (probs @ v).transpose(0, 1).reshape(T, cfg.d_model)  # (T, d)
        _record(acts, prefix + "mix", y)
        return self.wo(y)  # (T, d)


class MLP(nn.Module):
    """``W_proj gelu(W_fc x + b_fc) + b_proj``."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.approx = cfg.gelu_approx
        self.fc = nn.Linear(cfg.d_model, cfg.d_ffn)
        self.proj = nn.Linear(cfg.d_ffn, cfg.d_model)

    def forward(self, x, acts=None, prefix=""):
        pre = self.fc(x)  # (T, ffn)
        h = F.gelu(pre, approximate=self.approx)  # (T, ffn)
        _record(acts, prefix + "pre", pre)
        _record(acts, prefix + "hidden", h)
        return self.proj(h)  # (T, d)


class Block(nn.Module):
    """Pre-norm transformer block: attention then MLP, each with a residual."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, acts=None, prefix=""):
        a = self.ln1(x)  # (T, d)
        _record(acts, prefix + "ln1", a)
        x = x + self.attn(a, acts, prefix + "attn.")  # (T, d)
        _record(acts, prefix + "resid_mid", x)
        m = self.ln2(x)  # (T, d)
        _record(acts, prefix + "ln2", m)
        x = x + self.mlp(m, acts, prefix + "mlp.")  # (T, d)
        _record(acts, prefix + "resid_out", x)
        return x


class GPT2(nn.Module):
    """Token + position embeddings, ``n_layers`` blocks, final LayerNorm, LM head."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        if cfg.arch != "gpt2":
            raise ValueError(f"GPT2 needs a gpt2 config, got arch={cfg.arch!r}")
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_seq, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.lm_head = None if cfg.tied_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def head_weight(self) -> torch.Tensor:
        """The ``(vocab, d)`` output projection (the embedding matrix when tied)."""
        return self.tok_emb.weight if self.lm_head is None else self.lm_head.weight

    def forward(self, tokens, acts: dict | None = None) -> torch.Tensor:
        """Logits ``(T, vocab)`` for the token ids ``tokens`` ``(T,)``."""
        tokens = check_tokens(tokens, self.cfg).to(self.tok_emb.weight.device)
        positions = torch.arange(len(tokens), device=tokens.device)  # (T,)
        x = self.tok_emb(tokens) + self.pos_emb(positions)  # (T, d)
        _record(acts, "embed", x)
        for i, block in enumerate(self.blocks):
            x = block(x, acts, f"blocks.{i}.")  # (T, d)
        x = self.ln_f(x)  # (T, d)
        _record(acts, "final_norm", x)
        logits = x @ self.head_weight().T  # (T, vocab)
        _record(acts, "logits", logits)
        return logits

    @torch.no_grad()
    def init_random(self, generator: torch.Generator) -> "GPT2":
        """Seeded random init that keeps activations moderate (|value| < 8 for random bytes).

        * token and position embeddings ~ N(0, 1/d): the tied head maps the unit-variance
          final LayerNorm output to logits of standard deviation ~1;
        * ``wq, wk, wv, fc`` ~ N(0, 1/d): unit-variance outputs from a LayerNorm output,
          so attention scores and GELU inputs are ~N(0, 1);
        * ``wo`` ~ N(0, 1/(2L d)), ``proj`` ~ N(0, 1/(2L ffn)): small residual updates;
        * every bias ~ N(0, 0.1^2) and LayerNorm gains ~ 1 + N(0, 0.1^2), so none of them
          is trivially zero or one.
        """
        cfg = self.cfg
        d, ffn, resid = cfg.d_model, cfg.d_ffn, 2 * cfg.n_layers

        def normal(p, std, mean=0.0):
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * std + mean)

        normal(self.tok_emb.weight, d ** -0.5)
        normal(self.pos_emb.weight, d ** -0.5)
        for block in self.blocks:
            for lin in (block.attn.wq, block.attn.wk, block.attn.wv, block.mlp.fc):
                normal(lin.weight, d ** -0.5)
            normal(block.attn.wo.weight, (resid * d) ** -0.5)
            normal(block.mlp.proj.weight, (resid * ffn) ** -0.5)
            for lin in (block.attn.wq, block.attn.wk, block.attn.wv, block.attn.wo, block.mlp.fc, block.mlp.proj):
                normal(lin.bias, 0.1)
        for ln in [self.ln_f] + [n for block in self.blocks for n in (block.ln1, block.ln2)]:
            normal(ln.weight, 0.1, mean=1.0)
            normal(ln.bias, 0.1)
        if self.lm_head is not None:
            normal(self.lm_head.weight, d ** -0.5)
        return self
