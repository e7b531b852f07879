"""``zkllm demo``: the whole job end to end, on the embedded chain by default.

setup -> commit an MLP -> deploy the contracts -> register the model -> prove one
inference -> verify it off-chain -> attest it on-chain (the chain verifies the
proof) -> check it as a dApp would and claim the example consumer's reward.
"""
from __future__ import annotations

from prover.attester import parse as parse_attester

import time


def _stepper(timings: dict[str, float]):
    """step(name, fn): runs fn, records its wall time in ``timings[name]``, returns its result."""
    def step(name, fn):
        t = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t, 3)
        return out
    return step


def _attest_and_check(c, model_id, cm, statement, raw, signer, step, log, check_line):
    """Steps 7 and 8: the chain verifies and records the proof, then a dApp's query."""
    from . import service
    log("[7/8] attest on-chain (the chain verifies the proof; pairings are slow on py-evm)")
    att = step("attest_s", lambda: service.attest(c, model_id, cm.commitment, statement, raw, signer=signer))
    log(f"      attested, uid 0x{att.uid.hex()[:16]}..., {att.gas_used:,} gas")
    log(check_line)
    return att, step("check_s", lambda: service.check(c, model_id, statement))


def run_demo(rpc_url: str | None = None, log=lambda m: None, d_in: int = 64, d_hidden: int = 256,
             d_out: int = 64, act: str = "gelu") -> dict:
    import torch

    from prover import api, keys
    from prover.model.mlp import build_mlp, param_count
    from . import service
    from .chain import connect, load_signer

    timings: dict[str, float] = {}
    step = _stepper(timings)

    model = build_mlp(d_in, d_hidden, d_out, act, seed=0)
    log(f"[1/8] setup (development-only SRS) for an MLP {d_in}-{d_hidden}-{d_out} ({param_count(model):,} parameters)")
    pk = step("setup_s", lambda: keys.setup(14))
    vk = pk.verifying_key()
    log("[2/8] commit the model's weights")
    cm = step("commit_s", lambda: api.commit_model(pk, model))
    log("      prove that every committed weight is in range (once per model)")
    wp = step("weight_proof_s", lambda: api.prove_weights(pk, cm))
    step("weights_verify_s", lambda: api.verify_weights(vk, cm.commitment, wp))
    log("[3/8] connect to " + (rpc_url or "the embedded chain (py-evm, Prague)"))
    chain = connect(rpc_url)
    signer = load_signer(chain)
    log("[4/8] deploy contracts")
    c = step("deploy_s", lambda: service.deploy_all(chain, vk, signer=signer, consumer_reward_wei=0, log=log))
    log("[5/8] register the model commitment")
    model_id = step("register_s", lambda: service.register_model(c, cm.commitment, vk, uri="demo://mlp",
                                                                   signer=signer, weights_proof=wp))
    c.consumer.pin_model(model_id, c.verifier, signer=signer)  # the dApp trusts this model and verifier only
    g = torch.Generator().manual_seed(1)
    x = torch.rand(d_in, dtype=torch.float64, generator=g) * 2 - 1
    log("[6/8] prove one inference")
    res = step("prove_s", lambda: api.prove(pk, cm, x, attester=parse_attester(signer.address)))
    raw = res.proof.to_bytes()
    step("verify_s", lambda: api.verify(vk, cm.commitment, res.statement, raw))
    log(f"      proof {len(raw):,} bytes, verified off-chain")
    att, chk = _attest_and_check(c, model_id, cm, res.statement, raw, signer, step, log,
                                 "[8/8] check as a dApp and claim the example consumer's reward")
    claim = c.consumer.claim_reward(model_id, service.field_words(res.statement.input),
                                    service.field_words(res.statement.output), signer=signer)
    err = (res.output_float.reshape(-1) - model(x)).abs().max().item()
    return {
        "chain": chain.label if hasattr(chain, "label") else str(chain.chain_id), "chain_id": chain.chain_id,
        "verifier": c.verifier, "registry": c.registry.address, "attestations": c.attestations.address,
        "consumer": c.consumer.address, "model_id": model_id, "model_digest": "0x" + cm.commitment.digest().hex(),
        "proof_bytes": len(raw), "weight_proof_bytes": len(wp), "attest_gas": att.gas_used,
        "calldata_bytes": att.calldata_bytes, "deploy_gas": c.gas, "attested": chk["attested"], "attestation_uid": chk.get("uid"),
        "consumer_claim_gas": claim.gas_used, "max_abs_err_vs_float": err, "timings_s": timings,
    }


#: The text demo's default prompt (16 bytes, the trained tiny model's context; it writes "e" next).
TEXT_PROMPT = "At dawn the fish"


def run_text_demo(model_name: str = "tiny-llama-text", prompt: str = TEXT_PROMPT, rpc_url: str | None = None,
                  log=lambda m: None) -> dict:
    """The same job for a byte-level language model: prove which byte the committed model
    writes after ``prompt``, and have the chain verify it (transformer verifier)."""
    import torch

    from prover.errors import ZkllmError
    from prover.model.configs import get_config
    from prover.model.loaders import load_named
    from prover.transformer import prove as tp
    from prover.transformer.presets import tquant_for
    from . import service
    from .chain import connect, load_signer

    cfg = get_config(model_name)
    if cfg.vocab_size != 256:
        raise ZkllmError(f"the text demo needs a byte-level model (vocabulary 256); {model_name} has {cfg.vocab_size}")
    ids = list(prompt.encode("utf-8"))
    if not 1 <= len(ids) <= cfg.max_seq:
        raise ZkllmError(f"the prompt has {len(ids)} bytes; {model_name} reads 1 to {cfg.max_seq}")
    timings: dict[str, float] = {}
    step = _stepper(timings)

    tq = tquant_for(model_name)
    model = load_named(model_name, 0)
    log(f"[1/8] setup (development-only SRS) for {model_name} at {len(ids)} tokens")
    pk = step("setup_s", lambda: tp.setup(cfg, tq, max_rows=len(ids)))
    vk = pk.verifying_key()
    log("[2/8] commit the model's weights")
    cm = step("commit_s", lambda: tp.commit_model(pk, model, tq))
    log("      prove that every committed weight is in range (once per model)")
    wp = step("weight_proof_s", lambda: tp.prove_weights(pk, cm))
    step("weights_verify_s", lambda: tp.verify_weights(vk, cm.commitment, wp))
    log("[3/8] connect to " + (rpc_url or "the embedded chain (py-evm, Prague)"))
    chain = connect(rpc_url)
    signer = load_signer(chain)
    log("[4/8] deploy contracts (registry, attestations, transformer verifier and its modules)")

    def deploy():
        c = service.deploy_all(chain, vk, signer=signer, consumer_reward_wei=0)
        c.transformer = service.deploy_transformer_contracts(chain, vk, signer=signer)
        return c

    c = step("deploy_s", deploy)
    log(f"[5/8] register the model and its circuit for {len(ids)}-token prompts")
    model_id = step("register_s", lambda: service.register_model(
        c, cm.commitment, vk, uri=f"demo://{model_name}", signer=signer, weights_proof=wp,
        verifier=service.register_transformer_circuits(c, cm.commitment, [len(ids)], signer=signer)))
    log(f"[6/8] prove the next byte after {prompt!r}")
    res = step("prove_s", lambda: tp.prove(pk, cm, ids, attester=parse_attester(signer.address)))
    raw = res.proof.to_bytes()
    step("verify_s", lambda: tp.verify(vk, cm.commitment, res.statement, raw))
    nxt = bytes([res.statement.next_token]).decode("utf-8", "replace")
    log(f"      next byte {nxt!r}; proof {len(raw):,} bytes, verified off-chain")
    att, chk = _attest_and_check(c, model_id, cm, res.statement, raw, signer, step, log,
                                 "[8/8] check as a dApp would")
    with torch.no_grad():
        float_next = int(model(torch.tensor(ids))[-1].argmax())
    return {
        "model": model_name, "chain_id": chain.chain_id, "transformer_verifier": c.transformer.address,
        "registry": c.registry.address, "attestations": c.attestations.address, "model_id": model_id,
        "model_digest": "0x" + cm.commitment.digest().hex(), "prompt": prompt, "next_text": nxt,
        "next_token": res.statement.next_token, "float_next_token": float_next, "proof_bytes": len(raw),
        "weight_proof_bytes": len(wp),
        "attest_gas": att.gas_used, "calldata_bytes": att.calldata_bytes, "attested": chk["attested"],
        "attestation_uid": chk.get("uid"), "timings_s": timings,
    }
