"""Benchmarks: commands that print figures (never timed tests).

``run_mlp_bench`` times setup, model commitment, proving and verification of one
inference and returns the figures ``zkllm bench`` prints as JSON.
"""
from __future__ import annotations

import resource
import dataclasses
import time

import torch


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def onchain_verify_gas(vk, commitment, statement, proof_bytes: bytes, weights_proof: bytes) -> dict:
    """Deploy the verifier on a fresh embedded chain, certify the model's weights and send one
    verification transaction."""
    from .chain import connect, load_signer
    from .chain.verifier import deploy_verifier, proof_calldata, verify_transaction
    from .chain.weights import certify_for
    chain = connect()
    signer = load_signer(chain)
    dep = deploy_verifier(chain, vk, signer=signer)
    cert = certify_for(chain, dep.address, commitment.encode(), weights_proof, signer=signer)
    tx = verify_transaction(chain, dep, proof_calldata(statement, commitment, proof_bytes), signer=signer)
    return {"verify_gas": tx.gas_used, "calldata_bytes": tx.calldata_bytes, "verifier_deploy_gas": dep.tx.gas_used,
            "verifier_bytes": len(chain.w3.eth.get_code(dep.address)), "certify_gas": cert.gas_used}


def onchain_transformer_gas(vk, commitment, statement, proof_bytes: bytes) -> dict:
    """Deploy the transformer verifier on a fresh embedded chain, register the statement's
    circuit and send one verification transaction."""
    from .chain import connect, load_signer
    from .chain.transformer_verifier import (TRANSFORMER_VERIFY_GAS, add_circuits, deploy_transformer_verifier,
                                             transformer_calldata)
    from .chain.verifier import verify_transaction
    chain = connect()
    signer = load_signer(chain)
    dep = deploy_transformer_verifier(chain, vk, signer=signer)
    add_circuits(chain, dep, commitment, [len(statement.tokens)], signer=signer)
    tx = verify_transaction(chain, dep.verifier, transformer_calldata(statement, commitment, proof_bytes),
                            signer=signer, gas=TRANSFORMER_VERIFY_GAS)
    size = lambda a: len(chain.w3.eth.get_code(a))  # noqa: E731
    return {"verify_gas": tx.gas_used, "calldata_bytes": tx.calldata_bytes,
            "verifier_deploy_gas": dep.verifier.tx.gas_used + dep.modules.tx.gas_used + dep.circuits.tx.gas_used,
            "verifier_bytes": size(dep.verifier.address), "modules_bytes": size(dep.modules.address),
            "circuits_bytes": size(dep.circuits.address)}


def run_mlp_bench(d_in: int = 64, d_hidden: int = 256, d_out: int = 64, act: str = "gelu",
                  rows: int = 1, seed: int = 0, log=lambda msg: None, onchain: bool = True) -> dict:
    from prover import api, keys
    from prover.circuit import compile_mlp
    from prover.errors import VerificationError
    from prover.model.mlp import arch_of, build_mlp, param_count
    from prover.quant import QuantSpec

    model = build_mlp(d_in, d_hidden, d_out, act, seed=seed)
    quant = QuantSpec()
    n = max(compile_mlp(arch_of(model), quant, rows).num_vars, quant.lookup_in_bits)
    t = time.perf_counter()
    pk = keys.setup(n, quant)
    setup_s = time.perf_counter() - t
    log(f"setup: SRS for 2^{n} entries in {setup_s:.2f}s")
    t = time.perf_counter()
    cm = api.commit_model(pk, model, quant)
    commit_s = time.perf_counter() - t
    log(f"commit: {param_count(model)} parameters in {commit_s:.2f}s")
    t = time.perf_counter()
    wp = api.prove_weights(pk, cm)
    weight_proof_s = time.perf_counter() - t
    log(f"weight range proof: {weight_proof_s:.2f}s, {len(wp)} bytes")
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(rows, d_in, dtype=torch.float64, generator=g) * 2 - 1
    t = time.perf_counter()
    res = api.prove(pk, cm, x)
    prove_s = time.perf_counter() - t
    raw = res.proof.to_bytes()
    log(f"prove: {prove_s:.2f}s, proof {len(raw)} bytes")
    vk = pk.verifying_key()
    t = time.perf_counter()
    try:
        api.verify(vk, cm.commitment, res.statement, raw)
        verified = True
    except VerificationError:
        verified = False
    verify_s = time.perf_counter() - t
    log(f"verify: {verified} in {verify_s:.3f}s")
    err = (res.output_float.reshape(rows, -1) - model(x)).abs().max().item()
    chain_figures = {}
    if onchain:
        t = time.perf_counter()
        chain_figures = onchain_verify_gas(vk, cm.commitment, res.statement, raw, wp)
        log(f"on-chain verify (embedded chain): {chain_figures['verify_gas']:,} gas in {time.perf_counter() - t:.1f}s")
    return {**chain_figures, "model": "mlp", "arch": f"{d_in}-{d_hidden}-{d_out}/{act}", "rows": rows,
            "params": param_count(model), "srs_log_size": n,
            "setup_s": round(setup_s, 3), "commit_s": round(commit_s, 3), "weight_proof_s": round(weight_proof_s, 3),
            "weight_proof_bytes": len(wp), "prove_s": round(prove_s, 3),
            "verify_s": round(verify_s, 4), "proof_bytes": len(raw), "max_abs_err": err,
            "peak_rss_mb": round(peak_rss_mb(), 1), "verified": verified,
            **({"onchain_skipped": onchain_skipped} if onchain_skipped else {}),
            **({"prompt": tokenizer.decode(prompt.tolist()), "next_text": tokenizer.decode([res.statement.next_token])}
               if tokenizer is not None else {})}


#: Largest SRS (log2 entries) the transformer bench sets up: the development setup costs
#: about 6 s per 2^16 points on this 2-core machine.
MAX_SRS_VARS = 22


def run_transformer_bench(model_name: str = "tiny-llama", overrides: dict | None = None, tokens: int | None = None,
                          seed: int = 0, log=lambda msg: None, onchain: bool = True,
                          chunk_vars: int | None = None) -> dict:
    """Setup, commit, prove and verify one next-token inference of a transformer, off-chain
    and (unless ``onchain`` is false) with the Solidity verifier on the embedded chain."""
    from prover.errors import VerificationError, ZkllmError
    from prover.model.configs import get_config
    from prover.model.loaders import build_model
    from prover.transformer import prove as tp

    cfg = get_config(model_name)
    if overrides:
        try:
            cfg = cfg.with_(**{k: v for k, v in overrides.items() if v is not None})
        except ValueError as e:
            raise ZkllmError(f"invalid transformer shape: {e}") from None
    if cfg.arch not in ("llama", "gpt2"):
        raise ZkllmError(f"proving the {cfg.arch} architecture is not supported")
    T = tokens or cfg.max_seq
    if T > cfg.max_seq:
        cfg = cfg.with_(max_seq=T)
    from prover.transformer.compile import compile_model
    from prover.transformer.presets import tquant_for
    tq = tquant_for(model_name)
    if chunk_vars is not None:
        if chunk_vars < 0:
            raise ZkllmError("--chunk-vars must be 0 (whole tensors) or positive")
        tq = dataclasses.replace(tq, chunk_vars=chunk_vars)
    try:
        circuit = compile_model(cfg, T, tq)
    except ValueError as e:
        raise ZkllmError(f"{model_name} cannot be proven yet: {e}") from None
    if circuit.num_vars > MAX_SRS_VARS:
        big = max((s for s in circuit.specs.values() if s.kind == "model"), key=lambda s: s.num_vars)
        raise ZkllmError(f"{model_name} at {T} tokens needs an SRS of 2^{circuit.num_vars} entries (its largest "
                         f"committed tensor, {big.id} {big.shape}, has 2^{big.num_vars}); the bench stops at "
                         f"2^{MAX_SRS_VARS} (development setup ~{2 ** (MAX_SRS_VARS - 16) * 2} s): commit in chunks "
                         f"with --chunk-vars {MAX_SRS_VARS} or less")
    onchain_skipped = None
    if onchain:
        from prover.circuit_desc import describe
        try:
            describe(circuit)
        except ValueError as e:
            onchain, onchain_skipped = False, str(e)
            log(f"on-chain verification skipped: {e}")
    tokenizer = None
    if cfg == get_config(model_name) and model_name == "smollm2-135m":
        from prover.model.loaders import load_smollm2
        model, tokenizer, _ = load_smollm2()  # the pretrained model and its BPE tokenizer
    elif cfg == get_config(model_name):
        from prover.model.loaders import load_named
        model = load_named(model_name, seed)  # pretrained / text-trained weights where the name has them
    else:
        model = build_model(cfg, seed)
    t = time.perf_counter()
    pk = tp.setup(cfg, tq, max_rows=T)
    setup_s = time.perf_counter() - t
    log(f"setup: SRS for 2^{pk.srs.num_vars} entries and {len(pk.tables)} tables in {setup_s:.1f}s")
    t = time.perf_counter()
    cm = tp.commit_model(pk, model, tq)
    commit_s = time.perf_counter() - t
    params = sum(p.numel() for p in model.parameters())
    log(f"commit: {params:,} parameters in {commit_s:.1f}s")
    if tokenizer is not None:  # a text prompt: the first T tokens of the bundled English sample
        from prover.transformer.accuracy import sample_text
        prompt = torch.tensor(tokenizer.encode(sample_text())[:T])
    else:
        prompt = torch.randint(0, cfg.vocab_size, (T,), generator=torch.Generator().manual_seed(seed + 1))
    t = time.perf_counter()
    res = tp.prove(pk, cm, prompt, log=log)
    prove_s = time.perf_counter() - t
    raw = res.proof.to_bytes()
    log(f"prove: {prove_s:.1f}s, proof {len(raw):,} bytes, next token {res.statement.next_token}")
    t = time.perf_counter()
    try:
        tp.verify(pk.verifying_key(), cm.commitment, res.statement, raw)
        verified = True
    except VerificationError:
        verified = False
    verify_s = time.perf_counter() - t
    chain_figures = {"verify_gas": None, "calldata_bytes": None}
    if onchain:
        t = time.perf_counter()
        chain_figures = onchain_transformer_gas(pk.verifying_key(), cm.commitment, res.statement, raw)
        log(f"on-chain verify (embedded chain): {chain_figures['verify_gas']:,} gas, "
            f"{chain_figures['calldata_bytes']:,} calldata bytes in {time.perf_counter() - t:.1f}s")
    with torch.no_grad():
        ref = model(prompt)[-1]
    return {"model": model_name, "arch": cfg.arch, "layers": cfg.n_layers, "tokens": T, "params": params,
            "setup_s": round(setup_s, 3), "commit_s": round(commit_s, 3), "prove_s": round(prove_s, 3),
            "verify_s": round(verify_s, 4), "proof_bytes": len(raw), **chain_figures,
            "next_token": res.statement.next_token, "float_next_token": int(ref.argmax()),
            "peak_rss_mb": round(peak_rss_mb(), 1), "verified": verified,
            **({"onchain_skipped": onchain_skipped} if onchain_skipped else {}),
            **({"prompt": tokenizer.decode(prompt.tolist()), "next_text": tokenizer.decode([res.statement.next_token])}
               if tokenizer is not None else {})}
