"""Benchmarks: commands that print figures (never timed tests).

One flow serves every model kind: :func:`run_bench` sets up the keys, commits to the
model, proves one inference, verifies it with the Python verifier and (unless asked
not to) with the Solidity verifier on a fresh embedded chain, and returns the figures
``zkllm bench`` prints as JSON. What differs between kinds sits in a small
:class:`Bench` adapter: :class:`MlpBench` (``--model mlp``) and
:class:`TransformerBench` (the transformer configs and free ``--arch`` shapes).

Figures, in the printed order: the adapter's description of the model (``model``,
``arch``, ...), ``setup_s``, ``commit_s``, ``prove_s``, ``verify_s``, ``proof_bytes``,
the chain figures (``verify_gas`` and ``calldata_bytes``, None when the chain step
did not run, plus the deployment figures when it did), the adapter's comparison with
the float model, ``peak_rss_mb``, ``verified``, and ``onchain_skipped`` (why the chain
step could not run) and the prompt text where they apply.
"""
from __future__ import annotations

import dataclasses
import resource
import time
from abc import ABC, abstractmethod

import torch

#: Largest SRS (log2 entries) the transformer bench sets up: the development setup costs
#: about 6 s per 2^16 points on this 2-core machine.
MAX_SRS_VARS = 22


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


def onchain_transformer_gas(vk, commitment, statement, proof_bytes: bytes, weights_proof: bytes) -> dict:
    """Deploy the transformer verifier on a fresh embedded chain, register the statement's
    circuit and the model's weight circuit, certify the model's weights and send one
    verification transaction."""
    from .chain import connect, load_signer
    from .chain.transformer_verifier import (TRANSFORMER_VERIFY_GAS, add_circuits, deploy_transformer_verifier,
                                             transformer_calldata)
    from .chain.verifier import verify_transaction
    from .chain.weights import certify
    chain = connect()
    signer = load_signer(chain)
    dep = deploy_transformer_verifier(chain, vk, signer=signer)
    add_circuits(chain, dep, commitment, [len(statement.tokens)], signer=signer)
    cert = certify(chain, dep.weights, commitment.encode(), weights_proof, signer=signer)
    tx = verify_transaction(chain, dep.verifier, transformer_calldata(statement, commitment, proof_bytes),
                            signer=signer, gas=TRANSFORMER_VERIFY_GAS)
    size = lambda a: len(chain.w3.eth.get_code(a))  # noqa: E731
    return {"verify_gas": tx.gas_used, "calldata_bytes": tx.calldata_bytes,
            "verifier_deploy_gas": sum(d.tx.gas_used for d in (dep.verifier, dep.modules, dep.circuits, dep.weights,
                                                                dep.opener)),
            "verifier_bytes": size(dep.verifier.address), "modules_bytes": size(dep.modules.address),
            "opener_bytes": size(dep.opener.address),
            "circuits_bytes": size(dep.circuits.address), "weights_bytes": size(dep.weights.address),
            "certify_gas": cert.gas_used}


# ---------------------------------------------------------------- the shared flow

class Bench(ABC):
    """One model kind's steps. The constructor validates the shape and builds the float model
    (nothing is timed there); :func:`run_bench` times the rest, in the same order for every kind.

    ``prove`` returns a result with ``.proof`` (a :class:`prover.proof.Proof`) and ``.statement``;
    ``commit`` returns an object with ``.commitment`` (the public model commitment)."""

    params: int                       # parameter count of the float model
    onchain_skipped: str | None = None  # why the chain step cannot run for this model, if it cannot
    certify_weights: bool = False     # the chain step certifies the weight range proof first

    @abstractmethod
    def describe(self) -> dict:
        """The leading figures: model name, shape, parameter count."""

    @abstractmethod
    def setup(self):
        """The proving key (SRS and function tables)."""

    @abstractmethod
    def commit(self, pk):
        """The committed model."""

    @abstractmethod
    def prove(self, pk, cm, log):
        """Prove one inference of the bench's input."""

    @abstractmethod
    def verify(self, vk, commitment, statement, proof_bytes: bytes) -> None:
        """The Python verifier; raises ``VerificationError`` on a false proof."""

    def prove_weights(self, pk, cm) -> bytes:
        """The weight range proof (``certify_weights`` benches)."""
        raise NotImplementedError

    @abstractmethod
    def onchain(self, vk, commitment, statement, proof_bytes: bytes, weights_proof: bytes | None) -> dict:
        """Verify on a fresh embedded chain (certifying ``weights_proof`` first where given); at
        least ``verify_gas`` and ``calldata_bytes``."""

    @abstractmethod
    def compare(self, res) -> dict:
        """The proven output against the float model's."""

    def text(self, res) -> dict:
        """The prompt and the proven output as text, where the model has a tokenizer."""
        return {}


def run_bench(bench: Bench, log=lambda msg: None, onchain: bool = True) -> dict:
    """Setup, commit, prove and verify one inference (off-chain and, unless ``onchain`` is
    false or the model cannot go on-chain yet, on the embedded chain); the figures."""
    from prover.errors import VerificationError

    skipped = bench.onchain_skipped if onchain else None
    if skipped:
        log(f"on-chain verification skipped: {skipped}")
    t = time.perf_counter()
    pk = bench.setup()
    setup_s = time.perf_counter() - t
    log(f"setup: SRS for 2^{pk.srs.num_vars} entries and {len(pk.tables)} tables in {setup_s:.2f}s")
    t = time.perf_counter()
    cm = bench.commit(pk)
    commit_s = time.perf_counter() - t
    log(f"commit: {bench.params:,} parameters in {commit_s:.2f}s")
    wp, weights = None, {}
    if bench.certify_weights:
        t = time.perf_counter()
        wp = bench.prove_weights(pk, cm)
        weights = {"weight_proof_s": round(time.perf_counter() - t, 3), "weight_proof_bytes": len(wp)}
        log(f"weight range proof: {weights['weight_proof_s']:.2f}s, {len(wp):,} bytes")
    t = time.perf_counter()
    res = bench.prove(pk, cm, log)
    prove_s = time.perf_counter() - t
    raw = res.proof.to_bytes()
    log(f"prove: {prove_s:.2f}s, proof {len(raw):,} bytes")
    vk = pk.verifying_key()
    t = time.perf_counter()
    try:
        bench.verify(vk, cm.commitment, res.statement, raw)
        verified = True
    except VerificationError:
        verified = False
    verify_s = time.perf_counter() - t
    log(f"verify: {verified} in {verify_s:.3f}s")
    chain = {"verify_gas": None, "calldata_bytes": None}
    if onchain and not skipped:
        t = time.perf_counter()
        chain = bench.onchain(vk, cm.commitment, res.statement, raw, wp)
        log(f"on-chain verify (embedded chain): {chain['verify_gas']:,} gas, "
            f"{chain['calldata_bytes']:,} calldata bytes in {time.perf_counter() - t:.1f}s")
    return {**bench.describe(), "setup_s": round(setup_s, 3), "commit_s": round(commit_s, 3), **weights,
            "prove_s": round(prove_s, 3), "verify_s": round(verify_s, 4), "proof_bytes": len(raw), **chain,
            **bench.compare(res), "peak_rss_mb": round(peak_rss_mb(), 1), "verified": verified,
            **({"onchain_skipped": skipped} if skipped else {}), **bench.text(res)}


# ---------------------------------------------------------------- MLP

class MlpBench(Bench):
    """``Linear(d_in, d_hidden) -> act -> Linear(d_hidden, d_out)`` on ``rows`` seeded random inputs."""

    certify_weights = True  # ZkllmVerifier requires the model's weights certified

    def __init__(self, d_in: int = 64, d_hidden: int = 256, d_out: int = 64, act: str = "gelu", rows: int = 1,
                 seed: int = 0):
        from prover.circuit import compile_mlp
        from prover.model.mlp import arch_of, build_mlp, param_count
        from prover.quant import QuantSpec
        self.model = build_mlp(d_in, d_hidden, d_out, act, seed=seed)
        self.quant = QuantSpec()
        self.arch, self.rows, self.seed = f"{d_in}-{d_hidden}-{d_out}/{act}", rows, seed
        self.srs_vars = max(compile_mlp(arch_of(self.model), self.quant, rows).num_vars, self.quant.lookup_in_bits)
        self.params = param_count(self.model)
        g = torch.Generator().manual_seed(seed + 1)
        self.x = torch.rand(rows, d_in, dtype=torch.float64, generator=g) * 2 - 1

    def describe(self) -> dict:
        return {"model": "mlp", "arch": self.arch, "rows": self.rows, "params": self.params,
                "srs_log_size": self.srs_vars}

    def setup(self):
        from prover import keys
        return keys.setup(self.srs_vars, self.quant)

    def commit(self, pk):
        from prover import api
        return api.commit_model(pk, self.model, self.quant)

    def prove(self, pk, cm, log):
        from prover import api
        return api.prove(pk, cm, self.x)

    def verify(self, vk, commitment, statement, proof_bytes: bytes) -> None:
        from prover import api
        api.verify(vk, commitment, statement, proof_bytes)

    def prove_weights(self, pk, cm) -> bytes:
        from prover import api
        return api.prove_weights(pk, cm)

    def onchain(self, vk, commitment, statement, proof_bytes: bytes, weights_proof: bytes | None) -> dict:
        return onchain_verify_gas(vk, commitment, statement, proof_bytes, weights_proof)

    def compare(self, res) -> dict:
        with torch.no_grad():
            err = (res.output_float.reshape(self.rows, -1) - self.model(self.x)).abs().max().item()
        return {"max_abs_err": err}


# ---------------------------------------------------------------- transformers

class TransformerBench(Bench):
    """Next-token inference of a named transformer config, optionally reshaped.

    ``overrides`` change config fields (None values are ignored). With only ``n_layers`` and
    ``vocab_size`` changed, to at most the named model's, the named weights are kept
    (pretrained for smollm2-135m, text-trained for ``*-text``), cut to their first
    ``n_layers`` blocks and first ``vocab_size`` tokens (:func:`prover.model.loaders.cut`);
    any other shape gets seeded random weights."""

    def __init__(self, model_name: str = "tiny-llama", overrides: dict | None = None, tokens: int | None = None,
                 seed: int = 0, log=lambda msg: None, chunk_vars: int | None = None):
        from prover.errors import ZkllmError
        from prover.model.configs import get_config
        from prover.transformer.compile import compile_model
        from prover.transformer.presets import tquant_for

        base = get_config(model_name)
        cfg = base
        if overrides:
            try:
                cfg = cfg.with_(**{k: v for k, v in overrides.items() if v is not None})
            except ValueError as e:
                raise ZkllmError(f"invalid transformer shape: {e}") from None
        if cfg.arch not in ("llama", "gpt2"):
            raise ZkllmError(f"proving the {cfg.arch} architecture is not supported")
        if tokens is not None and tokens < 1:
            raise ZkllmError("--tokens must be at least 1")
        T = tokens or cfg.max_seq
        if T > cfg.max_seq:
            cfg = cfg.with_(max_seq=T)
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
                             f"2^{MAX_SRS_VARS} (development setup ~{2 ** (MAX_SRS_VARS - 16) * 2} s): commit in "
                             f"chunks with --chunk-vars {MAX_SRS_VARS} or less")
        from prover.circuit_desc import describe
        try:
            describe(circuit)
        except ValueError as e:
            self.onchain_skipped = str(e)
        self.name, self.cfg, self.tq, self.T = model_name, cfg, tq, T
        self.model, self.tokenizer = self._float_model(base, seed, log)
        self.params = sum(p.numel() for p in self.model.parameters())
        if self.tokenizer is not None:  # a text prompt from the bundled English sample
            self.prompt = self._text_prompt()
        else:
            self.prompt = torch.randint(0, cfg.vocab_size, (T,), generator=torch.Generator().manual_seed(seed + 1))

    def _float_model(self, base, seed: int, log):
        """(model, tokenizer or None): the named weights where the shape allows, else a seeded init."""
        from prover.model.loaders import build_model, cut, load_named
        cfg = self.cfg
        if (cfg.with_(n_layers=base.n_layers, vocab_size=base.vocab_size) != base
                or cfg.n_layers > base.n_layers or cfg.vocab_size > base.vocab_size):
            return build_model(cfg, seed), None
        tokenizer = None
        if self.name == "smollm2-135m":
            from prover.model.loaders import load_smollm2
            model, tokenizer, _ = load_smollm2()  # the pretrained model and its BPE tokenizer
        else:
            model = load_named(self.name, seed)  # pretrained / text-trained weights where the name has them
        if cfg != base:
            log(f"weights: {self.name}'s first {cfg.n_layers} of {base.n_layers} layers and first "
                f"{cfg.vocab_size} of {base.vocab_size} tokens")
            model = cut(model, cfg.n_layers, cfg.vocab_size)
        return model, tokenizer

    def _text_prompt(self):
        """The first T tokens of the bundled English sample; with a cut vocabulary, the first
        window of T consecutive tokens that all lie inside it."""
        from prover.errors import ZkllmError
        from prover.transformer.accuracy import sample_text
        ids = self.tokenizer.encode(sample_text())
        T, V = self.T, self.cfg.vocab_size
        for s in range(len(ids) - T + 1):
            if max(ids[s:s + T]) < V:
                return torch.tensor(ids[s:s + T])
        raise ZkllmError(f"the sample text has no run of {T} tokens below {V}: raise --vocab or lower --tokens")

    def describe(self) -> dict:
        return {"model": self.name, "arch": self.cfg.arch, "layers": self.cfg.n_layers, "tokens": self.T,
                "params": self.params}

    def setup(self):
        from prover.transformer import prove as tp
        return tp.setup(self.cfg, self.tq, max_rows=self.T)

    def commit(self, pk):
        from prover.transformer import prove as tp
        return tp.commit_model(pk, self.model, self.tq)

    def prove(self, pk, cm, log):
        from prover.transformer import prove as tp
        return tp.prove(pk, cm, self.prompt, log=log)

    def verify(self, vk, commitment, statement, proof_bytes: bytes) -> None:
        from prover.transformer import prove as tp
        tp.verify(vk, commitment, statement, proof_bytes)

    @property
    def certify_weights(self) -> bool:
        """The chain step needs the weight range proof; a model it cannot verify skips both."""
        return self.onchain_skipped is None

    def prove_weights(self, pk, cm) -> bytes:
        from prover.transformer import prove as tp
        return tp.prove_weights(pk, cm)

    def onchain(self, vk, commitment, statement, proof_bytes: bytes, weights_proof: bytes | None) -> dict:
        return onchain_transformer_gas(vk, commitment, statement, proof_bytes, weights_proof)

    def compare(self, res) -> dict:
        with torch.no_grad():
            ref = self.model(self.prompt)[-1]
        return {"next_token": res.statement.next_token, "float_next_token": int(ref.argmax())}

    def text(self, res) -> dict:
        if self.tokenizer is None:
            return {}
        return {"prompt": self.tokenizer.decode(self.prompt.tolist()),
                "next_text": self.tokenizer.decode([res.statement.next_token])}


def run_mlp_bench(d_in: int = 64, d_hidden: int = 256, d_out: int = 64, act: str = "gelu",
                  rows: int = 1, seed: int = 0, log=lambda msg: None, onchain: bool = True) -> dict:
    """The MLP bench (``zkllm bench --model mlp``)."""
    return run_bench(MlpBench(d_in, d_hidden, d_out, act, rows, seed), log=log, onchain=onchain)


def run_transformer_bench(model_name: str = "tiny-llama", overrides: dict | None = None, tokens: int | None = None,
                          seed: int = 0, log=lambda msg: None, onchain: bool = True,
                          chunk_vars: int | None = None) -> dict:
    """The transformer bench (``zkllm bench --model NAME`` or ``--arch``)."""
    bench = TransformerBench(model_name, overrides, tokens, seed, log=log, chunk_vars=chunk_vars)
    return run_bench(bench, log=log, onchain=onchain)
