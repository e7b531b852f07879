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


# ---------------------------------------------------------------- native kernels (prover/field/_fr.c)

from prover.field import native  # noqa: E402
from prover.poly import mle  # noqa: E402
from prover import sumcheck  # noqa: E402

EDGE = [0, 1, 2, R - 1, R - 2, R >> 1, (R >> 1) + 1, (1 << 64) - 1, 1 << 64, (1 << 254) % R, (1 << 255) % R]


def test_native_kernels_build_here():
    """The C kernels must build on the machines the project supports (gcc is a dependency)."""
    assert native.available(), native._error


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 7), st.randoms(use_true_random=False))
def test_native_kernels_agree_with_the_reference(m, rnd):
    xs = [rnd.choice(EDGE) if rnd.random() < 0.3 else rnd.randrange(R) for _ in range(1 << m)]
    ys = [rnd.choice(EDGE) if rnd.random() < 0.3 else rnd.randrange(R) for _ in range(1 << m)]
    zs = [rnd.randrange(R) for _ in range(1 << m)]
    a, b, c = (native.from_ints(v) for v in (xs, ys, zs))
    assert native.to_ints(a) == xs
    point = [rnd.choice(EDGE) for _ in range(m)]
    assert native.to_ints(native.eq_table(point)) == mle.eq_table(point)
    assert native.evaluate(a, point) == mle.evaluate(xs, point)
    assert native.to_ints(native.mul(a, b)) == [ref.mul(x, y) for x, y in zip(xs, ys)]
    cs = [rnd.choice(EDGE) for _ in range(3)]
    assert native.to_ints(native.lincomb([a, b, c], cs)) == [
        (cs[0] * x + cs[1] * y + cs[2] * z) % R for x, y, z in zip(xs, ys, zs)]
    for k in (1, 2, 3):
        f = [xs, ys, zs][:k]
        assert native.product_sum([a, b, c][:k]) == sumcheck._product_sum(f)
        if m:
            r = rnd.choice(EDGE)
            assert native.to_ints(native.fold(a, r)) == mle.fold(xs, r)
            assert native.round_evals([a, b, c][:k], 4) == sumcheck._round_evals(f, 4)


def test_native_lincomb_over_64_terms():
    rnd = np.random.default_rng(0)
    vecs = [[int(v) for v in rnd.integers(0, 1 << 62, 16)] for _ in range(70)]
    cs = [R - 1 - k for k in range(70)]
    got = native.to_ints(native.lincomb([native.from_ints(v) for v in vecs], cs))
    assert got == [sum(c * v[i] for c, v in zip(cs, vecs)) % R for i in range(16)]


def test_native_rejects_bad_shapes():
    a = native.from_ints([1, 2])
    with pytest.raises(ValueError):
        native.lincomb([a, native.from_ints([1])], [1, 1])
    with pytest.raises(ValueError):
        native.evaluate(a, [1, 2])
    with pytest.raises(ValueError):
        native.round_evals([a] * 17, 2)


# ---------------------------------------------------------------- SmallVec (signed int64 field vectors)

from prover.field.smallvec import SmallVec, pad_small  # noqa: E402


@given(st.lists(small, min_size=1, max_size=40))
def test_smallvec_reads_like_its_field_list(xs):
    v = SmallVec(np.array(xs, dtype=np.int64))
    field = [x % R for x in xs]
    assert len(v) == len(field) and list(v) == field and v.tolist() == field
    assert v[0] == field[0] and v[-1] == field[-1] and v[1:3].tolist() == field[1:3]
    assert v * 2 == field * 2 and [7] + v == [7] + field and v + [7] == field + [7]
    assert native.to_ints(v.limbs()) == field


def test_smallvec_limbs_at_the_bound():
    xs = [-(1 << 62) + 1, (1 << 62) - 1, -1, 0, 1]
    assert native.to_ints(SmallVec(np.array(xs)).limbs()) == [x % R for x in xs]
    with pytest.raises(ValueError, match="2\\^62"):
        SmallVec.checked(np.array([1 << 62]))


def test_pad_small_is_pad_flat():
    import torch
    t = torch.randint(-1000, 1000, (3, 5, 6))
    assert pad_small(t, (3, 5, 6)).tolist() == mle.pad_flat(t, (3, 5, 6))


def test_native_kernels_read_smallvec_operands():
    """SmallVec factors go to the kernels as int64 (no conversion) with the same results."""
    rnd = np.random.default_rng(5)
    a = SmallVec(rnd.integers(-(1 << 61), 1 << 61, 1 << 9))
    b = native.from_ints([int(x) for x in rnd.integers(0, 1 << 62, 1 << 9)])
    al, bl = a.tolist(), native.to_ints(b)
    r = (1 << 200) % R
    assert native.to_ints(native.fold(a, r)) == mle.fold(al, r)
    assert native.round_evals([a, b], 3) == sumcheck._round_evals([al, bl], 3)
    assert native.product_sum([b, a, a]) == sumcheck._product_sum([bl, al, al])
    point = [(7 << 100) % R + i for i in range(9)]
    assert native.evaluate(a, point) == mle.evaluate(al, point)
    assert native.to_ints(native.lincomb([a, b], [r, 3])) == [(r * x + 3 * y) % R for x, y in zip(al, bl)]


def test_without_a_compiler_the_kernels_are_off_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_error", None)
    monkeypatch.setenv("ZKLLM_NATIVE_DIR", str(tmp_path))  # nothing built there yet
    monkeypatch.setenv("CC", "/bin/false")
    assert not native.available()
    with pytest.raises(native.NativeUnavailable, match="building the native field kernels failed"):
        native.lib()
    xs = [(1 << 200) + i for i in range(1 << 10)]
    assert mle.evaluate_fast(xs, [3] * 10) == mle.evaluate(xs, [3] * 10)  # the Python path answers


def test_kernels_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_error", None)
    monkeypatch.setenv("ZKLLM_NATIVE", "0")
    assert not native.available() and "ZKLLM_NATIVE=0" in native._error
