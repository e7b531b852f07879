"""How close the proven (quantized) transformer is to its float model.

The proof is about the quantized forward pass of ``compile_model`` bit for bit; this
module measures how far that computation is from the float reference
(:mod:`prover.model.llama`, :mod:`prover.model.gpt2`), using only the public API of
the compiler: ``quantize_llama``/``quantize_gpt2`` (the committed weights),
``compile_model`` and ``forward`` (the circuit's integer tensors) and
``TransformerCircuit.logits_id`` (the (T, V) logits at scale 2^act_frac). No proof
is made.

Figures (``evaluate``):

* max absolute logit error |L_q / 2^a - L_float| at the proven (last) position and
  over all positions of each prompt;
* top-1 agreement: the proven next token (the circuit's ``next``, the argmax of the
  last row with ties to the smallest id) against the float model's argmax, and the
  same over all positions;
* perplexity exp(mean NLL) of float and quantized logits on text windows, teacher
  forcing: position t predicts token t+1 (W - 1 predictions per window of W tokens);
* the zkAttn softmax bounds (``softmax_check``) on every attention row of the prompts.

Prompts and windows are cut from ``prover/model/data/sample.txt`` (plain English):
bytes for the tiny models, SmolLM2's BPE tokens for ``smollm2-135m``.

"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..model.configs import TransformerConfig, get_config
from ..ops.softmax import Softmax
from .compile import TQuant, TransformerCircuit, compile_model, forward
from .presets import tquant_for
from .prove import quantize_gpt2, quantize_llama

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "model" / "data" / "sample.txt"


def sample_text() -> str:
    """The bundled English sample used for prompts and perplexity windows."""
    return SAMPLE_PATH.read_text(encoding="utf-8")


@dataclass
class AccuracyModel:
    """A float model, its quantized weights and the circuits that run them."""
    name: str
    cfg: TransformerConfig          # the float model's config
    model: torch.nn.Module
    tokenizer: object
    tq: TQuant
    params: dict[str, torch.Tensor]  # quantized weights in the circuit's names
    _circuits: dict = field(default_factory=dict, repr=False)

    def circuit(self, rows: int) -> TransformerCircuit:
        if rows not in self._circuits:
            self._circuits[rows] = compile_model(self.cfg, rows, self.tq)
        return self._circuits[rows]

    def quantized(self, tokens) -> tuple[TransformerCircuit, dict]:
        """(circuit, integer tensors) of the quantized forward pass over ``tokens``."""
        tok = torch.as_tensor(tokens, dtype=torch.int64).reshape(-1)
        c = self.circuit(len(tok))
        return c, forward(c, self.params, tok)

    def quantized_logits(self, tokens) -> torch.Tensor:
        """(T, V) float64: the circuit's logits divided by 2^act_frac."""
        c, ints = self.quantized(tokens)
        return ints[c.logits_id].double() / (1 << self.tq.act_frac)

    @torch.no_grad()
    def float_logits(self, tokens) -> torch.Tensor:
        return self.model(torch.as_tensor(tokens, dtype=torch.int64)).double()  # (T, V)


def load(name: str, seed: int = 0, tq: TQuant | None = None, model=None, tokenizer=None) -> AccuracyModel:
    """The float model ``name`` (tiny configs: seeded random init; smollm2-135m: the bundled
    GGUF) with its quantized weights under ``tq`` (default: ``tquant_for(name)``); a given
    ``model`` and ``tokenizer`` are used instead of loading them (e.g. to try several TQuant)."""
    from ..model.loaders import load_named, load_smollm2
    from ..model.tokenizer import ByteTokenizer

    if model is None:
        if name == "smollm2-135m":
            model, tokenizer, _ = load_smollm2()
        else:
            model, tokenizer = load_named(name, seed), ByteTokenizer()
    cfg = model.cfg
    tq = tq or tquant_for(name)
    params = quantize_gpt2(model, tq) if cfg.arch == "gpt2" else quantize_llama(model, tq)
    return AccuracyModel(name, cfg, model, tokenizer, tq, params)


# ---------------------------------------------------------------- figures

def nll(logits: torch.Tensor, tokens) -> torch.Tensor:
    """Per-position negative log-likelihood of tokens[t+1] under logits[t], (T-1,)."""
    tok = torch.as_tensor(tokens, dtype=torch.int64).reshape(-1)
    logp = torch.log_softmax(logits[:-1].double(), dim=-1)  # (T-1, V)
    return -logp.gather(1, tok[1:, None]).squeeze(1)


def perplexity(nlls: list[torch.Tensor]) -> float:
    """exp of the mean NLL over every prediction of every window."""
    allv = torch.cat([v.reshape(-1) for v in nlls])
    return math.exp(float(allv.mean()))


def softmax_check(circuit: TransformerCircuit, ints: dict) -> dict:
    """The zkAttn bounds of ``prover.ops.softmax`` on every attention row of one forward pass.

    ``row_sum_dev``: max |sum_j P_tj - 2^p_out| (any accepted proof has it <= ``row_sum_bound``,
    ``Softmax.row_bound``);
    ``entry_ratio``: max over unmasked entries of |P/2^p - sigma| / (rel sigma + a), sigma the
    float softmax of the quantized scores S / 2^s_in and (rel, a) = ``Softmax.error_bound()``;
    the stated bound holds iff it is <= 1.
    """
    dev, bound, ratio = 0, 0, 0.0
    for op in circuit.ops:
        if not isinstance(op, Softmax):
            continue
        m = op.mask()  # (..., T, T) over the op's batch axes (layers, heads)
        S, P = ints[op.s].reshape(m.shape), ints[op.p].reshape(m.shape)
        dev = max(dev, int((P.sum(-1) - (1 << op.p_out)).abs().max()))
        bound = max(bound, op.row_bound)
        sig = torch.softmax((S.double() / (1 << op.s_in)).masked_fill(~m, float("-inf")), dim=-1)
        rel, a = op.error_bound()
        err = (P.double() / (1 << op.p_out) - sig).abs()
        ratio = max(ratio, float((err / (rel * sig + a))[m].max()))
    return {"row_sum_dev": dev, "row_sum_bound": bound, "entry_ratio": ratio}


def text_windows(ids: list[int], count: int, length: int, overlap: bool) -> list[list[int]]:
    """``count`` windows of ``length`` ids: evenly spaced (may overlap) or back to back."""
    if count < 1 or length < 2:
        raise ValueError("need at least one window of at least 2 tokens")
    if overlap:
        if len(ids) < length:
            raise ValueError(f"the sample has {len(ids)} tokens, fewer than one window of {length}")
        span = len(ids) - length
        starts = [round(i * span / max(count - 1, 1)) for i in range(count)]
    else:
        if len(ids) < count * length:
            raise ValueError(f"the sample has {len(ids)} tokens, fewer than {count} windows of {length}")
        starts = [i * length for i in range(count)]
    return [ids[s:s + length] for s in starts]


def evaluate(am: AccuracyModel, prompts: list[list[int]], windows: list[list[int]], log=lambda msg: None) -> dict:
    """Logit error, top-1 agreement and softmax bounds on ``prompts``; perplexity on ``windows``."""
    err_last = err_all = 0.0
    agree = agree_all = positions = 0
    sm = {"row_sum_dev": 0, "row_sum_bound": 0, "entry_ratio": 0.0}
    t_q = t_f = 0.0
    for i, p in enumerate(prompts):
        t0 = time.perf_counter()
        c, ints = am.quantized(p)
        q = ints[c.logits_id].double() / (1 << am.tq.act_frac)  # (T, V)
        t1 = time.perf_counter()
        f = am.float_logits(p)  # (T, V)
        t_q, t_f = t_q + t1 - t0, t_f + time.perf_counter() - t1
        err_last = max(err_last, float((q[-1] - f[-1]).abs().max()))
        err_all = max(err_all, float((q - f).abs().max()))
        agree += int(int(ints[c.next_id][0]) == int(f[-1].argmax()))
        agree_all += int((q.argmax(-1) == f.argmax(-1)).sum())
        positions += len(p)
        s = softmax_check(c, ints)
        sm = {k: max(sm[k], s[k]) for k in sm}
        log(f"prompt {i + 1}/{len(prompts)}: max logit error {err_last:.3g}, agreement {agree}/{i + 1}")
    nq, nf = [], []
    for i, w in enumerate(windows):
        nq.append(nll(am.quantized_logits(w), w))
        nf.append(nll(am.float_logits(w), w))
        log(f"window {i + 1}/{len(windows)}: quantized ppl {perplexity(nq):.4g}, float {perplexity(nf):.4g}")
    n = len(prompts)
    return {"prompts": n, "prompt_tokens": len(prompts[0]) if n else 0,
            "max_logit_err_last": err_last, "max_logit_err_all": err_all,
            "top1_agreement": agree / n if n else None, "top1_agreement_all_positions": agree_all / positions if n else None,
            "ppl_windows": len(windows), "ppl_window_tokens": len(windows[0]) if windows else 0,
            "ppl_float": perplexity(nf) if windows else None, "ppl_quantized": perplexity(nq) if windows else None,
            "softmax": sm, "quantized_forward_s": t_q / n if n else None, "float_forward_s": t_f / n if n else None}


def run_accuracy(name: str, n_prompts: int = 50, prompt_tokens: int = 16, n_windows: int = 8,
                 window_tokens: int | None = None, seed: int = 0, tq: TQuant | None = None,
                 log=lambda msg: None) -> dict:
    """Load ``name``, cut prompts and windows from the sample text, and ``evaluate``."""
    t0 = time.perf_counter()
    am = load(name, seed, tq)
    log(f"loaded {name} and quantized its weights in {time.perf_counter() - t0:.1f}s")
    cfg = am.cfg
    window_tokens = window_tokens or min(cfg.max_seq, 32)
    for what, n in (("prompt", prompt_tokens), ("window", window_tokens)):
        if not 2 <= n <= cfg.max_seq:
            raise ValueError(f"{what} length must be in [2, {cfg.max_seq}] for {name}")
    ids = am.tokenizer.encode(sample_text())
    prompts = text_windows(ids, n_prompts, prompt_tokens, overlap=True)
    windows = text_windows(ids, n_windows, window_tokens, overlap=False) if n_windows else []
    out = evaluate(am, prompts, windows, log)
    return {"model": name, "arch": cfg.arch, "layers": cfg.n_layers, "tq": asdict(am.tq),
            **out, "total_s": round(time.perf_counter() - t0, 2)}
