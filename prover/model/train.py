"""Train a tiny byte-level model on the bundled text sample, so the demo reads text.

The tiny configs (``tiny-llama``, ``tiny-gpt2``) are byte-level with a 16-token
context. ``train`` fits one of them to ``data/sample.txt`` (original text bundled
with the package) by next-byte prediction; ``load_trained`` returns the committed
result (``data/<name>-text.pt``). Deterministic: same seed, same weights.

    python -m prover.model.train tiny-llama        # rewrites data/tiny-llama-text.pt
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

from .configs import get_config
from .loaders import build_model, load_state

DATA = Path(__file__).parent / "data"


def sample_bytes() -> list[int]:
    return list((DATA / "sample.txt").read_bytes())


def weights_path(name: str) -> Path:
    return DATA / f"{name}-text.pt"


def train(name: str = "tiny-llama", steps: int = 4000, batch: int = 32, lr: float = 3e-3, seed: int = 0,
          log=lambda msg: None):
    cfg = get_config(name)
    if cfg.vocab_size != 256:
        raise ValueError("only byte-level configs can be trained on the text sample")
    torch.manual_seed(seed)
    data = torch.tensor(sample_bytes(), dtype=torch.int64)
    model = build_model(cfg, seed, dtype=torch.float32).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    T, g = cfg.max_seq, torch.Generator().manual_seed(seed)

    def params():
        return dict(model.named_parameters())
    t0 = time.perf_counter()
    # the batch is vmapped over the model's one-sequence forward; token ids are valid bytes by
    # construction, so the per-call range check (a data-dependent .item()) is bypassed here
    from . import llama, gpt2
    saved = llama.check_tokens, getattr(gpt2, "check_tokens", None)
    llama.check_tokens = lambda tokens, cfg: tokens
    if saved[1] is not None:
        gpt2.check_tokens = llama.check_tokens
    try:
        _loop(model, opt, sched, data, T, g, steps, batch, cfg, params, log, t0)
    finally:
        llama.check_tokens = saved[0]
        if saved[1] is not None:
            gpt2.check_tokens = saved[1]
    return model.eval()


def _loop(model, opt, sched, data, T, g, steps, batch, cfg, params, log, t0):
    for step in range(steps):
        starts = torch.randint(0, len(data) - T - 1, (batch,), generator=g)
        idx = starts[:, None] + torch.arange(T + 1)
        seqs = data[idx]
        logits = torch.func.vmap(lambda x: torch.func.functional_call(model, params(), (x,)))(seqs[:, :T])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), seqs[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"step {step}: loss {loss.item():.3f} ({time.perf_counter() - t0:.0f}s)")


def load_trained(name: str = "tiny-llama", dtype=torch.float64):
    """The committed text-trained weights of a tiny config."""
    path = weights_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no trained weights at {path}; run `python -m prover.model.train {name}`")
    return load_state(get_config(name), torch.load(path, weights_only=True), dtype)


if __name__ == "__main__":
    nm = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
    m = train(nm, log=print)
    torch.save({k: v.detach().clone() for k, v in m.state_dict().items()}, weights_path(nm))
    print("saved", weights_path(nm))
