"""`zkllm demo --model tiny-llama-text`: a language model's next byte, proven and verified on-chain."""
from __future__ import annotations

import pytest

from prover.errors import ZkllmError
from zkllm_chain.demo import TEXT_PROMPT, run_text_demo


def test_text_demo_attests_the_models_next_byte_on_the_embedded_chain():
    steps = []
    out = run_text_demo("tiny-llama-text", TEXT_PROMPT, log=steps.append)
    assert out["attested"] is True and out["attestation_uid"]
    assert out["next_token"] == out["float_next_token"] == ord("e") and out["next_text"] == "e"
    assert out["attest_gas"] < 7_000_000 and out["proof_bytes"] < 60_000  # with masked sumchecks and opening
    assert [s[:5] for s in steps if s.startswith("[")] == [f"[{i}/8]" for i in range(1, 9)]


def test_text_demo_refuses_models_and_prompts_it_cannot_run():
    with pytest.raises(ZkllmError, match="byte-level"):
        run_text_demo("smollm2-135m", TEXT_PROMPT)
    with pytest.raises(ZkllmError, match="reads 1 to 16"):
        run_text_demo("tiny-llama-text", "x" * 17)
    with pytest.raises(ZkllmError, match="reads 1 to 16"):
        run_text_demo("tiny-llama-text", "")
