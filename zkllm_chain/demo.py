"""``zkllm demo``: the whole job end to end, on the embedded chain by default.

setup -> commit an MLP -> deploy the contracts -> register the model -> prove one
inference -> verify it off-chain -> attest it on-chain (the chain verifies the
proof) -> check it as a dApp would and claim the example consumer's reward.
"""
from __future__ import annotations

import time


def run_demo(rpc_url: str | None = None, log=lambda m: None, d_in: int = 64, d_hidden: int = 256,
             d_out: int = 64, act: str = "gelu") -> dict:
    import torch

    from prover import api, keys
    from prover.model.mlp import build_mlp, param_count
    from . import service
    from .chain import connect, load_signer

    timings: dict[str, float] = {}

    def step(name, fn):
        t = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t, 3)
        return out

    model = build_mlp(d_in, d_hidden, d_out, act, seed=0)
    log(f"[1/8] setup (development-only SRS) for an MLP {d_in}-{d_hidden}-{d_out} ({param_count(model):,} parameters)")
    pk = step("setup_s", lambda: keys.setup(14))
    vk = pk.verifying_key()
    log("[2/8] commit the model's weights")
    cm = step("commit_s", lambda: api.commit_model(pk, model))
    log("[3/8] connect to " + (rpc_url or "the embedded chain (py-evm, Prague)"))
    chain = connect(rpc_url)
    signer = load_signer(chain)
    log("[4/8] deploy contracts")
    c = step("deploy_s", lambda: service.deploy_all(chain, vk, signer=signer, consumer_reward_wei=0, log=log))
    log("[5/8] register the model commitment")
    model_id = step("register_s", lambda: service.register_model(c, cm.commitment, vk, uri="demo://mlp",
                                                                   signer=signer))
    g = torch.Generator().manual_seed(1)
    x = torch.rand(d_in, dtype=torch.float64, generator=g) * 2 - 1
    log("[6/8] prove one inference")
    res = step("prove_s", lambda: api.prove(pk, cm, x))
    raw = res.proof.to_bytes()
    step("verify_s", lambda: api.verify(vk, cm.commitment, res.statement, raw))
    log(f"      proof {len(raw):,} bytes, verified off-chain")
    log("[7/8] attest on-chain (the chain verifies the proof; pairings are slow on py-evm)")
    att = step("attest_s", lambda: service.attest(c, model_id, cm.commitment, res.statement, raw, signer=signer))
    log(f"      attested, uid 0x{att.uid.hex()[:16]}..., {att.gas_used:,} gas")
    log("[8/8] check as a dApp and claim the example consumer's reward")
    chk = step("check_s", lambda: service.check(c, model_id, res.statement))
    claim = c.consumer.claim_reward(model_id, service.field_words(res.statement.input),
                                    service.field_words(res.statement.output), signer=signer)
    err = (res.output_float.reshape(-1) - model(x)).abs().max().item()
    return {
        "chain": chain.label if hasattr(chain, "label") else str(chain.chain_id), "chain_id": chain.chain_id,
        "verifier": c.verifier, "registry": c.registry.address, "attestations": c.attestations.address,
        "consumer": c.consumer.address, "model_id": model_id, "model_digest": "0x" + cm.commitment.digest().hex(),
        "proof_bytes": len(raw), "attest_gas": att.gas_used, "calldata_bytes": att.calldata_bytes,
        "deploy_gas": c.gas, "attested": chk["attested"], "attestation_uid": chk.get("uid"),
        "consumer_claim_gas": claim.gas_used, "max_abs_err_vs_float": err, "timings_s": timings,
    }
