"""Named quantization settings (``TQuant``) per model config.

The default ``TQuant()`` fits the byte-level tiny models. SmolLM2-135M needs wider
ranges; each choice below is forced by a measured float activation (SmolLM2-135M-
Instruct, 16- and 32-token windows of ``prover/model/data/sample.txt``) or by a
rescale shift that must be a multiple of ``digit_bits``:

* ``bound_bits = 40``: the residual stream carries "massive activations" on one early
  position (the output of one MLP down projection, |x| ~2.1e4-2.6e4 on the sample
  text, 29,787 at most over 600 prompts with varied first tokens), and every bounded
  rescale quotient must satisfy |q| < 2^(bound_bits-1) at scale 2^16. The default 24
  bits (|x| < 128) fails on ``L1.down.q``; 32 bits (|x| < 32768) passes with only ~10 %
  headroom, so the next multiple of the digit width, 40, is used (one more range digit
  per bounded tensor, the values are unchanged).
* ``silu_in_bits = 16``: SwiGLU gate pre-activations reach |g| ~ 51 (58.6 in the scan
  above); at the input scale 2^8 the SiLU table must cover [-128, 128) (the default 12
  bits covers [-8, 8) and fails on ``L1.gate``). ``silu_in_frac`` stays 8: the gate
  rescale shift a + w - silu_in_frac must be a multiple of 8, and 16 would need a
  2^23-entry table.
* ``score_frac = 11``: head_dim 64 folds 1/sqrt(64) = 2^-3 into the score rescale,
  whose shift 2a + 3 - score_frac must be a multiple of 8 (the default 10 gives 25 and
  is rejected by the compiler; 3, the next legal value below, runs but raises the max
  logit error from ~0.05 to 3.3 on the same prompts).
* ``exp_digits = 3``: a row of attention scores spans up to ~53 (float units); with
  score_frac 11, two 8-bit digits cover only spreads below 2^16 / 2^11 = 32, three
  cover 8192.
* ``norm_precision = 24``: the inverse square root is an integer ~2^K / rms, and the
  massive-activation row has rms ~1.1e3, so K = 16 leaves ~60 (a 1.7 % floor error on
  that row's normalised output; max logit error 0.96 instead of ~0.05); K = 24 leaves
  ~1.5e4.

* ``chunk_vars = 20``: the stacked FFN weights and the embedding have 2^26 padded entries;
  they are committed as chunks of 2^20 (``prover.pcs.chunked``), so the SRS is 2^20
  (development setup ~30 s here) instead of 2^26 (~2 h).

act_frac = weight_frac = 16 (the tied head reads the embedding at 2^w; the linear
rescale shift w must be a multiple of 8, and at 24 the down-projection accumulator,
3e4 * 2^48 ~ 2^62.9, would sit at the edge of the int64 forward pass), weight_bits 24 (largest |weight| 9.25), rope_frac 16,
prob_frac 16 and argmax_digits 3 (logit spread < 2^24 / 2^16 = 256; measured ~45) are
the defaults.
"""
from __future__ import annotations

from .compile import TQuant

PRESETS: dict[str, TQuant] = {
    "smollm2-135m": TQuant(bound_bits=40, silu_in_bits=16, score_frac=11, exp_digits=3, norm_precision=24,
                           chunk_vars=20),
}


def tquant_for(model_name: str) -> TQuant:
    """The quantization settings for a model config name (the default for unnamed ones)."""
    return PRESETS.get(model_name, TQuant())
