"""The ``zkllm`` command line: a thin layer over ``prover`` and ``zkllm_chain``.

Every error a user can hit is printed as one line on stderr with a non-zero exit:
2 for bad input or setup, 1 for a proof that does not verify.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


class _Ticker:
    """Shows elapsed seconds on stderr while a long step runs (only on a terminal)."""

    def __init__(self):
        import threading
        self._stop = threading.Event()
        self._thread = None
        self._label = ""

    def start(self, label: str) -> None:
        import threading
        self.stop()
        if not sys.stderr.isatty():
            return
        self._label, self._stop = label, threading.Event()
        t0 = time.perf_counter()

        def run():
            frames = "|/-\\"
            i = 0
            while not self._stop.wait(0.25):
                print(f"\r  {frames[i % 4]} {self._label} {time.perf_counter() - t0:5.1f}s", end="",
                      file=sys.stderr, flush=True)
                i += 1
            print("\r" + " " * (len(self._label) + 16) + "\r", end="", file=sys.stderr, flush=True)
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None


_TICKER = _Ticker()


def _log(quiet: bool):
    def log(msg: str) -> None:
        if not quiet:
            _TICKER.stop()
            print(f"  {msg}", file=sys.stderr, flush=True)
            if msg.lstrip().startswith("["):  # a numbered step: tick until the next message
                _TICKER.start(msg.strip().split("]", 1)[-1].strip()[:40])
    return log


def _mlp_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--d-in", type=int, default=64, help="input width (default 64)")
    p.add_argument("--d-hidden", type=int, default=256, help="hidden width (default 256)")
    p.add_argument("--d-out", type=int, default=64, help="output width (default 64)")
    p.add_argument("--act", choices=["gelu", "relu", "silu"], default="gelu", help="activation (default gelu)")
    p.add_argument("--seed", type=int, default=0, help="weight initialisation seed (default 0)")


def _transformer_model(name: str, seed: int):
    """The float model of a named transformer config (random deterministic weights for the tiny
    configs, the shipped pretrained weights for smollm2-135m)."""
    from prover.errors import ZkllmError
    from prover.model.configs import CONFIGS
    if name not in CONFIGS:
        raise ZkllmError(f"unknown model {name!r} (transformers: {', '.join(sorted(CONFIGS))})")
    from prover.model.loaders import load_named
    return load_named(name, seed)


def _transformer_setup(a) -> dict:
    from prover.errors import ZkllmError
    from prover.model.configs import get_config
    from prover.transformer import files, prove as tp
    from prover.model.configs import CONFIGS
    from prover.transformer.presets import tquant_for
    if a.model not in CONFIGS:
        raise ZkllmError(f"unknown model {a.model!r} (transformers: {', '.join(sorted(CONFIGS))})")
    cfg = get_config(a.model)
    rows = a.tokens or cfg.max_seq
    if not 1 <= rows <= cfg.max_seq:
        raise ZkllmError(f"--tokens must be in [1, {cfg.max_seq}] for {a.model}")
    tq = tquant_for(a.model)
    log = _log(a.quiet)
    t = time.perf_counter()
    pk = tp.setup(cfg, tq, max_rows=rows)
    files.save_params(pk, cfg, tq, rows, Path(a.out))
    log("DEVELOPMENT-ONLY setup: the trapdoor was generated in this process and discarded")
    return {"params": str(a.out), "model": a.model, "max_tokens": rows, "num_vars": pk.srs.num_vars,
            "vk_digest": "0x" + pk.verifying_key().digest().hex(), "setup_s": round(time.perf_counter() - t, 3)}


def cmd_setup(a) -> dict:
    from prover import keys, store
    if a.model:
        return _transformer_setup(a)
    log = _log(a.quiet)
    t = time.perf_counter()
    pk = keys.setup(a.num_vars)
    store.save_params(pk, Path(a.out))
    log("DEVELOPMENT-ONLY setup: the trapdoor was generated in this process and discarded")
    return {"params": str(a.out), "num_vars": a.num_vars, "vk_digest": "0x" + pk.verifying_key().digest().hex(),
            "setup_s": round(time.perf_counter() - t, 3)}


def cmd_commit(a) -> dict:
    from prover import api, store
    from prover.model.mlp import build_mlp, param_count
    from prover.transformer import files
    if files.is_transformer_params(Path(a.params)):
        from prover.errors import ZkllmError
        from prover.transformer import prove as tp
        pk, cfg, tq, _ = files.load_params(Path(a.params))
        model = _transformer_model(a.model or "", a.seed)
        if model.cfg != cfg:
            raise ZkllmError(f"{a.params} was set up for another config than {a.model!r}")
        t = time.perf_counter()
        cm = tp.commit_model(pk, model, tq)
        files.save_model(cm, Path(a.out))
        t1 = time.perf_counter()
        _log(a.quiet)("[1/1] proving that every committed weight is in range (once per model)")
        wp = tp.prove_weights(pk, cm)
        store.save_weights_proof(Path(a.out), wp)
        return {"model_dir": str(a.out), "model": a.model, "params": sum(p.numel() for p in model.parameters()),
                "model_digest": "0x" + cm.commitment.digest().hex(), "commit_s": round(t1 - t, 3),
                "weight_proof_s": round(time.perf_counter() - t1, 3), "weight_proof_bytes": len(wp)}
    pk = store.load_params(Path(a.params))
    model = build_mlp(a.d_in, a.d_hidden, a.d_out, a.act, seed=a.seed)
    t = time.perf_counter()
    cm = api.commit_model(pk, model)
    store.save_model(cm, Path(a.out))
    t1 = time.perf_counter()
    wp = api.prove_weights(pk, cm)
    store.save_weights_proof(Path(a.out), wp)
    return {"model_dir": str(a.out), "params": param_count(model), "model_digest": "0x" + cm.commitment.digest().hex(),
            "commit_s": round(t1 - t, 3), "weight_proof_s": round(time.perf_counter() - t1, 3),
            "weight_proof_bytes": len(wp)}


def _check_weights(vk, cm, path: Path, transformer: bool) -> float:
    """Verify the weight range proof beside ``path`` (model.json or its directory). A false proof
    is a ``VerificationError`` named ``weights`` (the failing sub-check in its detail); a
    missing or malformed one a ``ZkllmError``."""
    from prover import api, store
    from prover.errors import VerificationError
    raw = store.load_weights_proof(path)
    if transformer:
        from prover.transformer import prove as tp
        verify = tp.verify_weights
    else:
        verify = api.verify_weights
    try:
        return verify(vk, cm, raw)
    except VerificationError as e:
        if e.check == "weights":
            raise
        raise VerificationError("weights", f"the weight range proof fails its {e}") from e


def _read_input(a, d_in: int):
    import torch
    if a.input:
        vals = json.loads(Path(a.input).read_text())
        return torch.tensor(vals, dtype=torch.float64)
    g = torch.Generator().manual_seed(a.input_seed)
    return torch.rand(d_in, dtype=torch.float64, generator=g) * 2 - 1


def _prompt_ids(a, cfg) -> list[int]:
    from prover.errors import ZkllmError
    if a.prompt_ids:
        try:
            ids = [int(v) for v in json.loads(a.prompt_ids)]
        except (ValueError, TypeError) as e:
            raise ZkllmError(f"--prompt-ids must be a JSON list of token ids ({e})") from None
    elif a.prompt is not None:
        if cfg.vocab_size != 256:
            raise ZkllmError("--prompt text needs a byte-level model; give --prompt-ids for this one")
        ids = list(a.prompt.encode("utf-8"))
    else:
        raise ZkllmError("a transformer proof needs --prompt TEXT or --prompt-ids JSON")
    if not ids or any(not 0 <= i < cfg.vocab_size for i in ids):
        raise ZkllmError(f"prompt token ids must be non-empty and in [0, {cfg.vocab_size})")
    return ids


def _attester(a) -> bytes:
    """``--attester``, else the address of the configured signing key (``ZKLLM_PRIVATE_KEY`` /
    ``--keystore``), else the zero address (the proof verifies, but nobody can attest with it)."""
    from prover.attester import NONE, parse
    from .chain.accounts import PRIVATE_KEY_ENV, KEYSTORE_ENV, load_signer
    if a.attester:
        return parse(a.attester)
    if getattr(a, "keystore", None) or os.environ.get(PRIVATE_KEY_ENV) or os.environ.get(KEYSTORE_ENV):
        return parse(load_signer(None, keystore=a.keystore).address)
    return NONE


def _transformer_prove(a) -> dict:
    from prover.errors import ZkllmError
    from prover.transformer import files, prove as tp
    cm = files.load_model(Path(a.model))
    pk, cfg, tq, rows = files.load_params(Path(a.params))
    if cm.commitment.cfg != cfg or cm.commitment.tq != tq:
        raise ZkllmError(f"{a.params} was set up for another model than {a.model}")
    ids = _prompt_ids(a, cfg)
    if len(ids) > rows:
        raise ZkllmError(f"the prompt has {len(ids)} tokens; the key in {a.params} serves at most {rows}")
    log = _log(a.quiet)
    log(f"[1/1] proving the next token of a {len(ids)}-token prompt")
    res = tp.prove(pk, cm, ids, attester=_attester(a))
    raw = res.proof.to_bytes()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(raw)
    text = None
    if cfg.vocab_size == 256:
        text = {"prompt": bytes(ids).decode("utf-8", "replace"),
                "next": bytes([res.statement.next_token]).decode("utf-8", "replace")}
    st_path = out.with_suffix(".statement.json")
    st_path.write_text(files.statement_to_json(res.statement, text))
    return {"proof": str(out), "statement": str(st_path), "proof_bytes": len(raw), "tokens": len(ids),
            "attester": "0x" + res.statement.attester.hex(),
            "next_token": res.statement.next_token, **({"next_text": text["next"]} if text else {}),
            "prove_s": round(res.timings["prove_s"], 3)}


def cmd_prove(a) -> dict:
    from prover import api, store
    from prover.transformer import files
    if files.is_transformer_model(Path(a.model)):
        return _transformer_prove(a)
    cm = store.load_model(Path(a.model))
    pk = store.load_params(Path(a.params), cm.commitment.quant)
    x = _read_input(a, cm.commitment.arch["d_in"])
    res = api.prove(pk, cm, x, attester=_attester(a))
    raw = res.proof.to_bytes()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(raw)
    st_path = out.with_suffix(".statement.json")
    st_path.write_text(res.statement.to_json())
    return {"proof": str(out), "statement": str(st_path), "proof_bytes": len(raw),
            "attester": "0x" + res.statement.attester.hex(),
            "prove_s": round(res.timings["prove_s"], 3), "output": res.output_float.reshape(-1).tolist()[:8]}


def cmd_verify(a) -> dict:
    from prover import api, store
    from prover.transformer import files
    text = Path(a.statement).read_text()
    if files.is_transformer_statement(text):
        from prover.transformer import prove as tp
        vk = store.load_vk(Path(a.vk))
        cm = files.load_commitment(Path(a.commitment))
        st = files.statement_from_json(text)
        proof = Path(a.proof).read_bytes()
        ws = _check_weights(vk, cm, Path(a.commitment), transformer=True)
        secs = tp.verify(vk, cm, st, proof)
        return {"verified": True, "model_digest": "0x" + st.model_digest.hex(), "tokens": len(st.tokens),
                "next_token": st.next_token, "verify_s": round(secs, 4), "weights_verify_s": round(ws, 4)}
    vk = store.load_vk(Path(a.vk))
    cm = store.load_commitment(Path(a.commitment))
    st = api.Statement.from_json(Path(a.statement).read_text())
    raw = Path(a.proof).read_bytes()
    ws = _check_weights(vk, cm, Path(a.commitment), transformer=False)
    v = api.verify(vk, cm, st, raw)
    return {"verified": True, "model_digest": "0x" + st.model_digest.hex(), "verify_s": round(v.seconds, 4),
            "weights_verify_s": round(ws, 4)}


def cmd_bench(a) -> dict:
    from .bench import run_mlp_bench, run_transformer_bench
    if a.arch:
        if a.model not in ("mlp", f"tiny-{a.arch}"):
            from prover.errors import ZkllmError
            raise ZkllmError("--arch gives a free shape; do not combine it with --model")
        a.model = f"tiny-{a.arch}"
    if a.model != "mlp":
        from prover.errors import ZkllmError
        from prover.model.configs import CONFIGS, get_config
        if a.model not in CONFIGS:
            raise ZkllmError(f"unknown bench model {a.model!r} (available: mlp, {', '.join(sorted(CONFIGS))})")
        kv = a.heads if get_config(a.model).arch == "gpt2" else a.kv_heads  # GPT-2: kv = heads
        over = {"n_layers": a.layers, "d_model": a.d_model, "n_heads": a.heads, "n_kv_heads": kv,
                "d_ffn": a.ffn, "vocab_size": a.vocab}
        return run_transformer_bench(a.model, over, a.tokens, a.seed, log=_log(a.quiet), onchain=not a.no_chain,
                                     chunk_vars=a.chunk_vars)
    return run_mlp_bench(a.d_in, a.d_hidden, a.d_out, a.act, a.rows, a.seed, log=_log(a.quiet),
                         onchain=not a.no_chain)


def _chain(a):
    import os
    from .chain import connect
    url = a.rpc_url or os.environ.get("ZKLLM_RPC_URL")
    if url is None:
        from prover.errors import ZkllmError
        raise ZkllmError(f"`zkllm {a.cmd}` needs --rpc-url: the embedded chain lives only inside one command "
                         f"(`zkllm demo` runs the whole flow on it)")
    chain = connect(url, a.chain_id)
    if getattr(a, "confirmations", None) is not None:
        chain.confirmations = a.confirmations
    elif not chain.is_dev:
        chain.confirmations = LIVE_CONFIRMATIONS
    from .chain.deployments import outbox_for
    chain.outbox = outbox_for(chain, getattr(a, "deployments", None))
    _OPEN.append(chain)
    return chain


#: Blocks an operation waits for on a live chain unless --confirmations says otherwise (a
#: development chain: 1, i.e. mined).
LIVE_CONFIRMATIONS = 3
#: Chains this command connected to (their outboxes are cleared when it succeeds).
_OPEN: list = []


def _confirmations(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"--confirmations must be a whole number from 1 to 1000, not {text!r}")
    return n


def _signer(a, chain):
    from .chain import load_signer
    return load_signer(chain, keystore=a.keystore)


def cmd_deploy(a) -> dict:
    from prover import store
    from prover.transformer import files
    from . import service
    chain = _chain(a)
    signer = _signer(a, chain)
    vk = store.load_vk(Path(a.vk))
    c = service.deploy_all(chain, vk, signer=signer, directory=a.deployments,
                           consumer_reward_wei=a.consumer_reward_wei, log=_log(a.quiet), force=a.force)
    out = {"chain_id": chain.chain_id, "verifier": c.verifier, "registry": c.registry.address,
           "attestations": c.attestations.address, "consumer": c.consumer.address if c.consumer else None}
    if files.is_transformer_params(Path(a.vk).parent):  # a transformer key: its verifier too
        t = service.deploy_transformer_contracts(chain, vk, signer=signer, directory=a.deployments, log=_log(a.quiet),
                                                 force=a.force)
        out["transformer_verifier"] = t.address
        for d in (t.verifier, t.modules, t.circuits, t.weights, t.opener):
            c.gas[d.name] = d.tx.gas_used
            c.sizes[d.name] = len(chain.w3.eth.get_code(d.address))
    return {**out, "deploy_gas": c.gas, "bytecode_bytes": c.sizes,
            "records": {k: str(v) for k, v in c.records.items()}}


def cmd_register(a) -> dict:
    from prover import store
    from . import service
    vk = store.load_vk(Path(a.vk))
    from prover.errors import VerificationError, ZkllmError
    from prover.transformer import files
    transformer = files.is_transformer_model(Path(a.commitment))
    cm = files.load_commitment(Path(a.commitment)) if transformer else store.load_commitment(Path(a.commitment))
    try:
        _check_weights(vk, cm, Path(a.commitment), transformer)
    except VerificationError as e:
        raise ZkllmError(f"refusing to register: the model's weight range proof does not verify ({e})") from None
    if transformer:
        from prover.transformer.prove import check_listed_circuits
        try:
            check_listed_circuits(cm)  # the descriptions its on-chain proofs will run
        except VerificationError as e:
            raise ZkllmError(f"refusing to register: {e}") from None
    chain = _chain(a)
    signer = _signer(a, chain)
    c = service.load_contracts(chain, a.deployments, signer)
    if transformer:
        rows = ([int(t) for t in a.prompt_lengths.split(",")] if a.prompt_lengths
                else [max(1, len(cm.circuits) - 1)])
        verifier = service.register_transformer_circuits(c, cm, rows, signer=signer)
        model_id = service.register_model(c, cm, vk, uri=a.uri, signer=signer, verifier=verifier,
                                          weights_proof=store.load_weights_proof(Path(a.commitment)))
    else:
        model_id = service.register_model(c, cm, vk, uri=a.uri, signer=signer,
                                          weights_proof=store.load_weights_proof(Path(a.commitment)))
    return {"model_id": model_id, "model_digest": "0x" + cm.digest().hex(), "registry": c.registry.address}


def cmd_attest(a) -> dict:
    from prover import api, store
    from . import service
    chain = _chain(a)
    signer = _signer(a, chain)
    c = service.load_contracts(chain, a.deployments, signer)
    from prover.transformer import files
    text = Path(a.statement).read_text()
    gas = a.gas
    if files.is_transformer_statement(text):
        cm, st = files.load_commitment(Path(a.commitment)), files.statement_from_json(text)
        gas = gas or service.TRANSFORMER_ATTEST_GAS
    else:
        cm, st = store.load_commitment(Path(a.commitment)), api.Statement.from_json(text)
    model_id = a.model_id
    r = service.attest(c, model_id, cm, st, Path(a.proof).read_bytes(), signer=signer, gas=gas or service.ATTEST_GAS)
    out = {"uid": "0x" + r.uid.hex(), "created": r.created, "model_id": model_id, "gas_used": r.gas_used,
           "tx": r.tx_hash, "calldata_bytes": r.calldata_bytes}
    if r.tx_hash is None:
        out["note"] = "already attested: nothing sent"
    return out


def cmd_check(a) -> dict:
    from prover import api
    from . import service
    chain = _chain(a)
    c = service.load_contracts(chain, a.deployments)
    from prover.transformer import files
    text = Path(a.statement).read_text()
    st = files.statement_from_json(text) if files.is_transformer_statement(text) else api.Statement.from_json(text)
    out = service.check(c, a.model_id, st)
    if a.commitment:
        out.update(service.check_commitment(out, Path(a.commitment)))
    return out


def cmd_accuracy(a) -> dict:
    """Quantized (proven) forward vs the float model: logit error, top-1 agreement, perplexity."""
    from prover.errors import ZkllmError
    from prover.model.configs import CONFIGS
    from prover.transformer.accuracy import run_accuracy
    from .bench import peak_rss_mb
    if a.model not in CONFIGS:
        raise ZkllmError(f"unknown model {a.model!r} (available: {', '.join(sorted(CONFIGS))})")
    if a.prompts < 1 or a.windows < 0:
        raise ZkllmError("--prompts must be >= 1 and --windows >= 0")
    try:
        out = run_accuracy(a.model, a.prompts, a.tokens, a.windows, a.window_tokens, a.seed, log=_log(a.quiet))
    except ZkllmError:
        raise
    except (ValueError, FileNotFoundError) as e:  # bad lengths; SmolLM2 weights not installed
        raise ZkllmError(str(e)) from None
    return {**out, "peak_rss_mb": round(peak_rss_mb(), 1)}


def cmd_demo(a) -> dict:
    from .demo import TEXT_PROMPT, run_demo, run_text_demo
    if a.model == "mlp":
        return run_demo(rpc_url=a.rpc_url, log=_log(a.quiet))
    return run_text_demo(a.model, a.prompt or TEXT_PROMPT, rpc_url=a.rpc_url, log=_log(a.quiet))


COMMANDS = {"setup": cmd_setup, "commit": cmd_commit, "prove": cmd_prove, "verify": cmd_verify,
            "deploy": cmd_deploy, "register": cmd_register, "attest": cmd_attest, "check": cmd_check,
            "bench": cmd_bench, "demo": cmd_demo, "accuracy": cmd_accuracy}


def _model_id(text: str) -> int:
    """argparse type of ``--model-id``: registry ids start at 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= v < 1 << 256:
        raise argparse.ArgumentTypeError(f"model ids start at 1 (got {v})")
    return v


def _gas(text: str) -> int:
    """argparse type of ``--gas``: a transaction's gas limit, at least the 21,000 every
    transaction pays and at most the EIP-7825 per-transaction cap."""
    from .chain.contracts import TX_GAS_CAP
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 21_000 <= v <= TX_GAS_CAP:
        raise argparse.ArgumentTypeError(f"a gas limit must be in [21,000, {TX_GAS_CAP:,}] (EIP-7825), got {v:,}")
    return v


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit code 2, like every other bad input."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message}\n")


def _chain_args(p: argparse.ArgumentParser, records: bool = True) -> None:
    p.add_argument("--rpc-url", help="JSON-RPC endpoint (default: $ZKLLM_RPC_URL)")
    p.add_argument("--chain-id", type=int, help="refuse to act unless the node reports this chain id")
    p.add_argument("--keystore", help="encrypted keystore (password in $ZKLLM_KEYSTORE_PASSWORD); "
                                      "default: $ZKLLM_PRIVATE_KEY, or a dev chain's funded account")
    p.add_argument("--confirmations", type=_confirmations, default=None,
                   help=f"blocks a transaction must be deep in before it counts (default 1 on development chains, "
                        f"{LIVE_CONFIRMATIONS} on live ones); a reorg that drops it meanwhile is noticed and it is re-sent")
    if records:
        p.add_argument("--deployments", default=None,
                       help="deployment records directory (default: ./deployments on live chains; "
                            "required on dev chains such as anvil)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="zkllm", description=(
        "Prove in zero knowledge that a committed model produced an output, and verify the proof.\n"
        "Typical flow: setup -> commit -> prove -> verify. `zkllm demo` runs it all."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    def add(name, help_):
        s = sub.add_parser(name, help=help_, description=help_)
        s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        s.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
        return s

    s = add("setup", "generate DEVELOPMENT-ONLY public parameters (SRS + function tables)")
    s.add_argument("--out", required=True, help="directory to write srs.bin and vk.json")
    s.add_argument("--num-vars", type=int, default=14, help="log2 of the largest tensor (default 14)")
    s.add_argument("--model", help="set up for a transformer (tiny-llama, tiny-gpt2); default: the MLP key")
    s.add_argument("--tokens", type=int, help="transformer: longest prompt the key serves (default: max_seq)")
    s = add("commit", "quantize a model and commit to its weights")
    s.add_argument("--params", required=True, help="directory written by `zkllm setup`")
    s.add_argument("--out", required=True, help="directory to write model.pt (private) and model.json (public)")
    s.add_argument("--model", help="transformer to commit (with a transformer key); default: the MLP below")
    _mlp_args(s)
    s = add("prove", "run one inference and prove it")
    s.add_argument("--params", required=True, help="directory written by `zkllm setup`")
    s.add_argument("--attester", help="0x address of the only account that may attest this proof on-chain (default: "
                                      "the configured signing key's address; none configured: the zero address, "
                                      "verifiable but not attestable)")
    s.add_argument("--keystore", help="keystore whose address is the default --attester")
    s.add_argument("--model", required=True, help="directory written by `zkllm commit`")
    s.add_argument("--input", help="JSON file with the input vector (floats); default: a seeded random input")
    s.add_argument("--input-seed", type=int, default=1)
    s.add_argument("--prompt", help="transformer: prompt text (byte-level models)")
    s.add_argument("--prompt-ids", help="transformer: prompt as a JSON list of token ids")
    s.add_argument("--out", required=True, help="proof file to write (statement goes next to it)")
    s = add("verify", "verify a proof off-chain")
    s.add_argument("--vk", required=True, help="vk.json written by `zkllm setup`")
    s.add_argument("--commitment", required=True, help="model.json (or its directory)")
    s.add_argument("--statement", required=True, help="statement JSON written by `zkllm prove`")
    s.add_argument("--proof", required=True, help="proof file")
    s = add("bench", "benchmark setup/commit/prove/verify and print figures")
    s.description = ("benchmark setup/commit/prove/verify of one inference and print figures (--json: one JSON "
                     "object, `verified` true when the Python verifier accepts the proof). Small runs for a quick "
                     "check: --model mlp --d-hidden 16; --model NAME --layers 1 --tokens 2 (a named model keeps its "
                     "own weights, cut after the first --layers blocks); add --no-chain to skip the chain step.")
    s.add_argument("--model", default="mlp",
                   help="mlp (default), tiny-llama, tiny-llama-text, tiny-gpt2 or smollm2-135m")
    s.add_argument("--rows", type=int, default=1, help="mlp: input rows proven at once (default 1)")
    s.add_argument("--no-chain", action="store_true",
                   help="skip the on-chain verification on the embedded chain (verify_gas is then null)")
    g = s.add_argument_group("transformer shape (with --model tiny-llama etc., or a free shape with --arch)")
    g.add_argument("--arch", choices=("llama", "gpt2"),
                   help="free shape: start from tiny-<arch> and override with the options below")
    g.add_argument("--layers", type=int,
                   help="number of blocks; at most the named model's depth with no other shape option keeps its "
                        "pretrained/trained weights (the first N blocks, then its final norm and head: e.g. "
                        "--model smollm2-135m --layers 1 --tokens 2), otherwise weights are seeded random")
    g.add_argument("--d-model", type=int, help="residual width")
    g.add_argument("--heads", type=int, help="attention heads")
    g.add_argument("--kv-heads", type=int, help="key/value heads (llama; gpt2 uses --heads)")
    g.add_argument("--ffn", type=int, help="MLP hidden width")
    g.add_argument("--vocab", type=int, help="vocabulary size")
    g.add_argument("--tokens", type=int, help="prompt length (default: the config's max_seq)")
    g.add_argument("--chunk-vars", type=int,
                   help="commit tensors over 2^K entries as chunks of 2^K (the SRS is then 2^K; default: the "
                        "model's preset, 20 for smollm2-135m, whole tensors otherwise)")
    _mlp_args(s.add_argument_group("mlp shape (with --model mlp; --seed also seeds the transformer weights)"))
    s = add("accuracy", "compare the quantized (proven) forward pass with the float model")
    s.add_argument("--model", default="tiny-llama", help="tiny-llama (default), tiny-gpt2 or smollm2-135m")
    s.add_argument("--prompts", type=int, default=50, help="prompts for logit error and top-1 agreement (default 50)")
    s.add_argument("--tokens", type=int, default=16, help="tokens per prompt (default 16)")
    s.add_argument("--windows", type=int, default=8, help="perplexity windows (default 8; 0 skips perplexity)")
    s.add_argument("--window-tokens", type=int, help="tokens per perplexity window (default: min(max_seq, 32))")
    s.add_argument("--seed", type=int, default=0, help="weight seed of the tiny models (default 0)")
    s = add("deploy", "deploy the verifier, registry, attestations and example consumer (and, for a "
                      "transformer key, the transformer verifier)")
    s.add_argument("--vk", required=True, help="vk.json written by `zkllm setup`")
    s.add_argument("--consumer-reward-wei", type=int, default=0)
    s.add_argument("--force", action="store_true", help="replace existing deployment records (the old ones are kept "
                                                       "under <deployments>/<chainId>/history/)")
    _chain_args(s)
    s = add("register", "register a model commitment in the registry")
    s.add_argument("--vk", required=True, help="vk.json the model's proofs verify under")
    s.add_argument("--commitment", required=True, help="model.json (or its directory)")
    s.add_argument("--uri", default="", help="metadata URI stored with the model")
    s.add_argument("--prompt-lengths", help="transformer: comma-separated prompt lengths whose circuits to register "
                                            "with the transformer verifier (default: the longest the commitment lists)")
    _chain_args(s)
    s = add("attest", "post a proof on-chain: the chain verifies it, then records the attestation")
    s.add_argument("--commitment", required=True, help="model.json (or its directory)")
    s.add_argument("--statement", required=True)
    s.add_argument("--proof", required=True)
    s.add_argument("--model-id", type=_model_id, required=True,
                   help="registry id of the model (printed by `register`; a digest names no entry: anyone may "
                        "register any digest)")
    s.add_argument("--gas", type=_gas, help="gas limit (default 15,000,000; 16,000,000 for a transformer, under "
                                           "the EIP-7825 cap of 16,777,216)")
    _chain_args(s)
    s = add("check", "ask, as a dApp would, whether an inference is attested")
    s.add_argument("--model-id", type=_model_id, required=True)
    s.add_argument("--statement", required=True)
    s.add_argument("--commitment", help="model.json (or its directory): also check that it is the registered model "
                                        "and, for a transformer, that every circuit it lists is its config's")
    _chain_args(s)
    s = add("demo", "the whole job end to end: setup, commit, deploy, register, prove, attest, check")
    s.add_argument("--rpc-url", help="run against this node instead of the embedded chain")
    s.add_argument("--model", default="mlp",
                   help="mlp (default), or a byte-level language model such as tiny-llama-text: proves the "
                        "next byte of --prompt and verifies it on-chain (about a minute more)")
    s.add_argument("--prompt", help="the text demo's prompt (default: 'At dawn the fish')")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from prover.errors import VerificationError, ZkllmError
    from .chain.contracts import SENT_HOOKS
    from .chain.errors import ChainError
    # every transaction's hash, before its receipt is awaited
    SENT_HOOKS[:] = [] if getattr(args, "quiet", False) else [
        lambda fn, hx, what: _log(False)(f"{what} {fn}: {hx} (waiting for its receipt)")]
    _OPEN.clear()
    try:
        try:
            result = COMMANDS[args.cmd](args)
            for chain in _OPEN:  # done: the transactions it sent need not be resumed
                if chain.outbox is not None:
                    chain.outbox.finish()
        finally:
            _TICKER.stop()
    except VerificationError as e:
        print(f"REJECTED: {e}", file=sys.stderr)
        return 1
    except ZkllmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ChainError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"error: file not found: {e.filename}", file=sys.stderr)
        return 2
    except OSError as e:  # a directory where a file is expected, no permission, ...
        print(f"error: cannot read {e.filename or 'a file'}: {e.strerror or e}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print("error: a file that should be text (JSON) is binary", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>14}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
