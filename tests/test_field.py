"""Reference vs fast field paths (same API, same answers)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from prover.field import R, fast, ref

felt = st.integers(min_value=0, max_value=R - 1)
small = st.integers(min_value=-(1 << 23), max_value=(1 << 23) - 1)


@given(st.lists(felt, min_size=1, max_size=30), st.lists(felt, min_size=1, max_size=30))
def test_vector_ops_agree(a, b):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    assert fast.vec_mul(a, b) == ref.vec_mul(a, b)
    assert fast.vec_add(a, b) == ref.vec_add(a, b)
    assert fast.vec_sub(a, b) == ref.vec_sub(a, b)
    assert fast.vec_scale(a, b[0]) == ref.vec_scale(a, b[0])
    assert fast.inner(a, b) == ref.inner(a, b)


@given(st.lists(st.integers(min_value=1, max_value=R - 1), min_size=1, max_size=20))
def test_batch_inverse(a):
    inv = fast.batch_inv(a)
    assert inv == ref.batch_inv(a)
    assert all(x * y % R == 1 for x, y in zip(a, inv))


def test_inverse_of_zero_raises():
    with pytest.raises(ZeroDivisionError):
        ref.inv(0)
    with pytest.raises(ZeroDivisionError):
        fast.batch_inv([1, 0, 2])


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_vec_mat_limb_gemm_is_exact(data):
    rows = data.draw(st.integers(1, 40))
    cols = data.draw(st.integers(1, 12))
    v = data.draw(st.lists(felt, min_size=rows, max_size=rows))
    m = data.draw(st.lists(st.lists(small, min_size=cols, max_size=cols), min_size=rows, max_size=rows))
    assert fast.vec_mat(v, np.array(m)) == ref.vec_mat(v, m)


def test_vec_mat_worst_case_magnitudes():
    rows = 4096
    v = [R - 1] * rows
    m = np.full((rows, 3), -(1 << 23))
    m[:, 1] = (1 << 23) - 1
    assert fast.vec_mat(v, m) == ref.vec_mat(v, m.tolist())


def test_signed_embedding_round_trip():
    for x in (0, 1, -1, 12345, -(1 << 40)):
        assert ref.to_signed(ref.embed(x)) == x
