import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prover import api, keys  # noqa: E402
from prover.model.mlp import build_mlp  # noqa: E402
from prover.rng import seeded  # noqa: E402


@pytest.fixture(scope="session")
def pk():
    return keys.setup(14, rng=seeded(1))


@pytest.fixture(scope="session")
def vk(pk):
    return pk.verifying_key()


@pytest.fixture(scope="session")
def mlp():
    return build_mlp(64, 256, 64, "gelu", seed=0)


@pytest.fixture(scope="session")
def committed(pk, mlp):
    return api.commit_model(pk, mlp, rng=seeded(2))


@pytest.fixture(scope="session")
def inputs():
    g = torch.Generator().manual_seed(3)
    return [torch.rand(64, dtype=torch.float64, generator=g) * 2 - 1 for _ in range(2)]


@pytest.fixture(scope="session")
def proved(pk, committed, inputs):
    return api.prove(pk, committed, inputs[0], rng=seeded(4))
