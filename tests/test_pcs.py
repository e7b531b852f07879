"""Tests of the polynomial commitment layer (prover/pcs): encodings, MSM, SRS, KZG."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prover.errors import MalformedError, MalformedProofError, SetupError
from prover.field import R
from prover.pcs import curve, kzg
from prover.pcs import srs as srs_mod
from prover.pcs.curve import (G1_BYTES, G2_BYTES, P, G1Point, G2Point, g1_from_bytes, g1_to_bytes,
                              g2_from_bytes, g2_to_bytes, msm, msm_many, pairing_check, scalar)
from prover.pcs.kzg import OpeningProof, commit, evaluate, verify
from prover.pcs.srs import SRS, VerifierKey, check_srs, load, save, setup

N = 6
HSET = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Standard generators (as listed in EIP-2537 / the BLS12-381 spec): x, y; G2 as (c0, c1).
G1_X = 0x17F1D3A73197D7942695638C4FA9AC0FC3688C4F9774B905A14E3A3F171BAC586C55E83FF97A1AEFFB3AF00ADB22C6BB
G1_Y = 0x08B3F481E3AAA0F1A09E30ED741D8AE4FCF5E095D5D00AF600DB18CB2C04B3EDD03CC744A2888AE40CAA232946C5E7E1
G2_X = (0x024AA2B2F08F0A91260805272DC51051C6E47AD4FA403B02B4510B647AE3D1770BAC0326A805BBEFD48056C8C121BDB8,
        0x13E02B6052719F607DACD3A088274F65596BD0D09920B61AB5DA61BBDC7F5049334CF11213945D57E5AC7D055D042B7E)
G2_Y = (0x0CE5D527727D6E118CC9CDC6DA2E351AADFD9BAA8CBDD3A76D429A695160D12C923AC9CC3BACA289E193548608B82801,
        0x0606C4A02EA734CC32ACD2B02BC28B99CB3E287E85A763AF267492AB572E99AB3F370D275CEC1DA1AAA9075FF05F79BE)


def fp(x: int) -> bytes:
    return x.to_bytes(64, "big")


# --------------------------------------------------------------------- F_p / F_p2 helpers

def fp_sqrt(a: int):
    """sqrt in F_p (p = 3 mod 4) or None."""
    y = pow(a % P, (P + 1) // 4, P)
    return y if y * y % P == a % P else None


def f2_mul(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def f2_add(a, b):
    return ((a[0] + b[0]) % P, (a[1] + b[1]) % P)


def f2_sqrt(a):
    """sqrt in F_p2 = F_p[u]/(u^2+1) via the norm, or None."""
    a0, a1 = a
    if a1 == 0:
        r = fp_sqrt(a0)
        if r is not None:
            return (r, 0)
        r = fp_sqrt(-a0)
        return None if r is None else (0, r)
    n = fp_sqrt(a0 * a0 + a1 * a1)
    if n is None:
        return None
    inv2 = pow(2, P - 2, P)
    for c in ((a0 + n) * inv2, (a0 - n) * inv2):
        x0 = fp_sqrt(c)
        if x0:
            x = (x0, a1 * pow(2 * x0, P - 2, P) % P)
            if f2_mul(x, x) == (a0 % P, a1 % P):
                return x
    return None


def on_g2_curve(x, y) -> bool:
    return f2_mul(y, y) == f2_add(f2_mul(f2_mul(x, x), x), (4, 4))


def non_subgroup_g1_bytes() -> bytes:
    x = 0
    while True:
        y = fp_sqrt(x ** 3 + 4)
        if y is not None:
            b = fp(x) + fp(y)
            if not G1Point.from_xy_bytes_unchecked_be(b[16:64] + b[80:]).is_in_subgroup():
                return b
        x += 1


def non_subgroup_g2_bytes() -> bytes:
    k = 0
    while True:
        x = (k, 1)
        y = f2_sqrt(f2_add(f2_mul(f2_mul(x, x), x), (4, 4)))
        if y is not None:
            assert on_g2_curve(x, y)
            b = fp(x[0]) + fp(x[1]) + fp(y[0]) + fp(y[1])
            pt = G2Point.from_xy_bytes_unchecked_be(b"".join(b[i + 16:i + 64] for i in range(0, 256, 64)))
            if not pt.is_in_subgroup():
                return b
        k += 1


# --------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def secrets6():
    rng = random.Random(2024)
    return [rng.randrange(2, R) for _ in range(N)], rng.randrange(1, R)


@pytest.fixture(scope="module")
def srs6(secrets6) -> SRS:
    taus, xi = secrets6
    return srs_mod._setup_from_secrets(N, taus, xi)


@pytest.fixture(scope="module")
def vk6(srs6) -> VerifierKey:
    return srs6.verifier_key()


def rand_point(rng) -> G1Point:
    return G1Point() * scalar(rng.randrange(1, R))


def eq(bits, x):
    out = 1
    for b, xi in zip(bits, x):
        out = out * (xi if b else 1 - xi) % R
    return out


def bits_of(b: int, m: int):
    return [(b >> (m - 1 - i)) & 1 for i in range(m)]


# --------------------------------------------------------------------- encodings

def test_generator_encodings_match_eip2537():
    assert g1_to_bytes(G1Point()) == fp(G1_X) + fp(G1_Y)
    assert g2_to_bytes(G2Point()) == fp(G2_X[0]) + fp(G2_X[1]) + fp(G2_Y[0]) + fp(G2_Y[1])
    assert g1_to_bytes(G1Point.identity()) == bytes(G1_BYTES)
    assert g2_to_bytes(G2Point.identity()) == bytes(G2_BYTES)
    assert g1_from_bytes(bytes(G1_BYTES)) == G1Point.identity()
    assert g2_from_bytes(bytes(G2_BYTES)) == G2Point.identity()


def test_g2_byte_order_is_c0_then_c1():
    """The encoding, read as (x.c0, x.c1, y.c0, y.c1), satisfies y^2 = x^3 + 4(1+u)."""
    rng = random.Random(1)
    for _ in range(4):
        b = g2_to_bytes(G2Point() * scalar(rng.randrange(R)))
        c = [int.from_bytes(b[i:i + 64], "big") for i in range(0, 256, 64)]
        assert on_g2_curve((c[0], c[1]), (c[2], c[3]))
        assert not on_g2_curve((c[1], c[0]), (c[3], c[2]))


def test_round_trips():
    rng = random.Random(2)
    for _ in range(5):
        s = scalar(rng.randrange(R))
        p, q = G1Point() * s, G2Point() * s
        assert g1_from_bytes(g1_to_bytes(p)) == p
        assert g2_from_bytes(g2_to_bytes(q)) == q
        assert g1_from_bytes(bytearray(g1_to_bytes(p))) == p


@pytest.mark.parametrize("dec,size", [(g1_from_bytes, G1_BYTES), (g2_from_bytes, G2_BYTES)])
def test_bad_length(dec, size):
    for n in (0, size - 1, size + 1, 96, 192):
        with pytest.raises(MalformedError, match="bytes"):
            dec(bytes(n))
    with pytest.raises(MalformedError):
        dec("00" * size)


@pytest.mark.parametrize("enc,dec,size", [(g1_to_bytes, g1_from_bytes, G1_BYTES),
                                          (g2_to_bytes, g2_from_bytes, G2_BYTES)])
def test_bad_padding(enc, dec, size):
    good = enc(G1Point() if size == G1_BYTES else G2Point())
    for elem in range(size // 64):
        for pos in (0, 15):
            b = bytearray(good)
            b[elem * 64 + pos] = 1
            with pytest.raises(MalformedError, match="padding"):
                dec(bytes(b))
    b = bytearray(size)
    b[3] = 1  # non-zero padding in an otherwise all-zero (identity) encoding
    with pytest.raises(MalformedError, match="padding"):
        dec(bytes(b))


@pytest.mark.parametrize("enc,dec,size", [(g1_to_bytes, g1_from_bytes, G1_BYTES),
                                          (g2_to_bytes, g2_from_bytes, G2_BYTES)])
def test_coordinate_not_below_p(enc, dec, size):
    good = enc(G1Point() if size == G1_BYTES else G2Point())
    for elem in range(size // 64):
        c = int.from_bytes(good[elem * 64:(elem + 1) * 64], "big")
        for bad in (c + P, P):
            b = good[:elem * 64] + fp(bad) + good[(elem + 1) * 64:]
            with pytest.raises(MalformedError, match="modulus"):
                dec(b)
        b = good[:elem * 64] + bytes(16) + b"\xff" * 48 + good[(elem + 1) * 64:]
        with pytest.raises(MalformedError, match="modulus"):
            dec(b)


def test_off_curve():
    b = fp(G1_X) + fp((G1_Y + 1) % P)
    with pytest.raises(MalformedError, match="not on the curve"):
        g1_from_bytes(b)
    with pytest.raises(MalformedError, match="not on the curve"):
        g1_from_bytes(b, subgroup_check=False)
    with pytest.raises(MalformedError, match="not on the curve"):
        g1_from_bytes(fp(0) + fp(1))
    g = g2_to_bytes(G2Point())
    with pytest.raises(MalformedError, match="not on the curve"):
        g2_from_bytes(g[:192] + fp((G2_Y[1] + 1) % P))
    with pytest.raises(MalformedError, match="not on the curve"):
        g2_from_bytes(bytes(255) + b"\x01")


def test_not_in_subgroup():
    b1 = non_subgroup_g1_bytes()
    with pytest.raises(MalformedError, match="subgroup"):
        g1_from_bytes(b1)
    # the bulk loader's decoding accepts it: only the subgroup check is skipped
    assert not g1_from_bytes(b1, subgroup_check=False).is_in_subgroup()
    b2 = non_subgroup_g2_bytes()
    with pytest.raises(MalformedError, match="subgroup"):
        g2_from_bytes(b2)
    assert not g2_from_bytes(b2, subgroup_check=False).is_in_subgroup()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=G1_BYTES, max_size=G1_BYTES), st.booleans())
def test_g1_decode_is_canonical_or_rejects(data, pad_ok):
    if pad_ok:  # make most inputs get past the padding check
        data = bytes(16) + data[16:64] + bytes(16) + data[80:]
    try:
        p = g1_from_bytes(data)
    except MalformedError:
        return
    assert g1_to_bytes(p) == data and p.is_in_subgroup()


# --------------------------------------------------------------------- MSM / pairing

def test_msm_matches_naive():
    rng = random.Random(3)
    pts = [rand_point(rng) for _ in range(12)]
    scs = [rng.randrange(R) for _ in range(12)]
    scs[2] = 0
    scs[3] = R - 1
    scs[4] = 1
    scs[5] = R // 2
    scs[6] = R // 2 + 1
    scs[7] = R - 5
    want = G1Point.identity()
    for p, s in zip(pts, scs):
        want = want + p * scalar(s)
    assert msm(pts, scs) == want
    assert msm([], []) == G1Point.identity()
    assert msm(pts[:2], [0, 0]) == G1Point.identity()
    assert msm_many([(pts, scs), ([], []), (pts[:1], [7])]) == [want, G1Point.identity(), pts[0] * scalar(7)]


def test_msm_rejects_bad_input():
    g = G1Point()
    with pytest.raises(ValueError):
        msm([g, g], [1])
    with pytest.raises(ValueError):
        msm([g], [R])
    with pytest.raises(ValueError):
        msm([g], [-1])


def test_msm_threaded_matches_single_call():
    rng = random.Random(4)
    base = [rand_point(rng) for _ in range(16)]
    n = 3 * curve._MIN_CHUNK + 17
    pts = [base[i % 16] + base[(i * 7) % 16] for i in range(n)]
    for scs in ([rng.randrange(R) for _ in range(n)],
                [rng.randrange(-2 ** 20, 2 ** 20) % R for _ in range(n)]):
        assert msm(pts, scs) == G1Point.multiexp_unchecked(pts, [scalar(s) for s in scs])


def test_pairing_check():
    g, h = G1Point(), G2Point()
    a, b = scalar(5), scalar(7)
    assert pairing_check([g * a, -(g * b)], [h * b, h * a])
    assert not pairing_check([g * a, -(g * b)], [h * a, h * a])
    assert not pairing_check([g], [h])
    with pytest.raises(ValueError):
        pairing_check([g], [])


def test_randbelow_accepts_both_spellings():
    class Only:
        def randbelow(self, n):
            return n - 1
    assert curve.randbelow(Only(), 10) == 9
    assert 0 <= curve.randbelow(random.Random(0), 10) < 10


# --------------------------------------------------------------------- SRS

def test_srs_structure(srs6, secrets6):
    taus, xi = secrets6
    g = G1Point()
    assert srs6.lagrange[0] == [g]
    for k in range(N + 1):
        sub = taus[N - k:]
        assert len(srs6.lagrange[k]) == 1 << k
        for b in range(1 << k):
            assert srs6.lagrange[k][b] == g * scalar(eq(bits_of(b, k), sub))
    assert srs6.tau_g1 == [g * scalar(t) for t in taus]
    assert srs6.xi_g1 == g * scalar(xi)
    assert srs6.tau_g2 == [G2Point() * scalar(t) for t in taus]
    assert srs6.xi_g2 == G2Point() * scalar(xi)
    check_srs(srs6, random.Random(0))


def test_setup_with_seeded_rng_is_deterministic_and_consistent():
    a = setup(3, random.Random(9))
    b = setup(3, random.Random(9))
    assert a.lagrange == b.lagrange and a.verifier_key().digest == b.verifier_key().digest
    assert setup(3, random.Random(10)).verifier_key().digest != a.verifier_key().digest
    check_srs(a, random.Random(1))
    z = setup(0, random.Random(1))
    assert z.lagrange == [[G1Point()]] and z.tau_g2 == []
    with pytest.raises(ValueError):
        setup(-1)


def test_fixed_base_muls():
    rng = random.Random(5)
    scs = [0, 1, R - 1, 2 ** 254, *(rng.randrange(R) for _ in range(5))]
    base = rand_point(rng)
    assert srs_mod.fixed_base_muls(base, scs) == [base * scalar(s) for s in scs]


def test_check_srs_detects_inconsistency(srs6):
    rng = random.Random(6)
    # one top-level point off (levels recomputed so the additive check passes)
    top = list(srs6.lagrange[N])
    top[5] = top[5] + G1Point()
    bad = srs_mod.SRS(N, srs_mod._levels_from_top(top, N), srs6.tau_g1, srs6.xi_g1, srs6.g1,
                      srs6.g2, srs6.tau_g2, srs6.xi_g2)
    with pytest.raises(SetupError):
        check_srs(bad, rng)
    for field, value in [("tau_g2", srs6.tau_g2[::-1]), ("tau_g1", srs6.tau_g1[::-1]),
                         ("xi_g1", srs6.xi_g1 + srs6.g1), ("xi_g2", srs6.xi_g2 + srs6.g2)]:
        kw = dict(vars(srs6))
        kw.pop("_vk")
        kw[field] = value
        with pytest.raises(SetupError):
            check_srs(srs_mod.SRS(**kw), rng)
    lv = [list(x) for x in srs6.lagrange]
    lv[2][1] = lv[2][1] + G1Point()
    kw = dict(vars(srs6))
    kw.pop("_vk")
    kw["lagrange"] = lv
    with pytest.raises(SetupError, match="pairwise"):
        check_srs(srs_mod.SRS(**kw), rng)


def test_verifier_key(srs6, vk6):
    assert vk6.num_vars == N and vk6.g1 == G1Point() and vk6.g2 == G2Point()
    assert list(vk6.tau_g2) == srs6.tau_g2
    data = vk6.to_bytes()
    assert len(data) == VerifierKey.size(N)
    assert vk6.digest == srs_mod.keccak256(data) and len(vk6.digest) == 32
    assert VerifierKey.from_bytes(data) == vk6
    with pytest.raises(SetupError):
        VerifierKey(N, vk6.g1, vk6.g2, vk6.tau_g2, vk6.xi_g2, digest=bytes(32))
    with pytest.raises(MalformedError):
        VerifierKey.from_bytes(data[:-1])
    with pytest.raises(dataclass_frozen_error()):
        vk6.num_vars = 3


def dataclass_frozen_error():
    import dataclasses
    return dataclasses.FrozenInstanceError


def test_save_load_round_trip(srs6, tmp_path):
    path = tmp_path / "srs.bin"
    digest = save(srs6, path)
    data = path.read_bytes()
    assert len(data) == srs_mod.file_size(N) and data[:8] == srs_mod.MAGIC
    assert digest == srs_mod.keccak256(data[:-32]) == data[-32:]
    for kw in ({}, {"expected_digest": digest}, {"check_subgroup": True}):
        s = load(path, **kw)
        assert s.lagrange == srs6.lagrange and s.tau_g1 == srs6.tau_g1 and s.xi_g1 == srs6.xi_g1
        assert s.tau_g2 == srs6.tau_g2 and s.xi_g2 == srs6.xi_g2
        assert s.verifier_key() == srs6.verifier_key()
        assert s.subgroup_checked == bool(kw.get("check_subgroup"))
    check_srs(load(path, check_subgroup=True), random.Random(0))


def _rehash(body: bytes) -> bytes:
    return body + srs_mod.keccak256(body)


def test_load_rejects_corrupt_files(srs6, tmp_path):
    path = tmp_path / "srs.bin"
    digest = save(srs6, path)
    data = path.read_bytes()
    body = data[:-32]
    hdr = 16
    lag_off = hdr + VerifierKey.size(N) + (N + 1) * G1_BYTES
    cases = {
        "flip": data[:500] + bytes([data[500] ^ 1]) + data[501:],
        "flip-digest": data[:-1] + bytes([data[-1] ^ 1]),
        "truncated": data[:-1],
        "truncated-lots": data[:len(data) // 2],
        "extended": data + b"\x00",
        "empty": b"",
        "magic": _rehash(b"NOTASRS!" + body[8:]),
        "version": _rehash(body[:8] + (2).to_bytes(4, "big") + body[12:]),
        "num_vars": _rehash(body[:12] + (N + 1).to_bytes(4, "big") + body[16:]),
        "huge-num_vars": _rehash(body[:12] + (1000).to_bytes(4, "big") + body[16:]),
        # well-hashed files whose contents are malformed
        "bad-padding": _rehash(body[:lag_off] + b"\x01" + body[lag_off + 1:]),
        "off-curve": _rehash(body[:lag_off + 127] + bytes([body[lag_off + 127] ^ 1]) + body[lag_off + 128:]),
        "vk-off-curve": _rehash(body[:hdr + 32 + 127] + bytes([body[hdr + 32 + 127] ^ 1]) + body[hdr + 32 + 128:]),
    }
    for name, bad in cases.items():
        path.write_bytes(bad)
        with pytest.raises(SetupError):
            load(path)
            pytest.fail(name)
    # a well-hashed file with two Lagrange points swapped still sums to g, so it loads;
    # check_srs is what catches an inconsistent (e.g. crafted) SRS
    swapped = _rehash(body[:lag_off] + body[lag_off + 128:lag_off + 256] + body[lag_off:lag_off + 128]
                      + body[lag_off + 256:])
    path.write_bytes(swapped)
    with pytest.raises(SetupError):
        check_srs(load(path), random.Random(0))
    path.write_bytes(data)
    with pytest.raises(SetupError, match="expected digest"):
        load(path, expected_digest=bytes(32))
    assert load(path, expected_digest=digest).num_vars == N
    with pytest.raises(SetupError):
        load(tmp_path / "missing.bin")


def test_non_subgroup_lagrange_point_is_caught(srs6, tmp_path):
    """A crafted (well-hashed) file with a non-subgroup Lagrange point: the full load
    rejects it, the fast load accepts it but kzg refuses to output commitments."""
    path = tmp_path / "srs.bin"
    save(srs6, path)
    body = path.read_bytes()[:-32]
    lag_off = 16 + VerifierKey.size(N) + (N + 1) * G1_BYTES
    i = 3
    off = lag_off + i * G1_BYTES
    # keep L_0 = g: move the difference onto another point (all levels are sums of L_n)
    bad_pt = g1_from_bytes(non_subgroup_g1_bytes(), subgroup_check=False)
    top = list(srs6.lagrange[N])
    delta = bad_pt - top[i]
    top[i] = bad_pt
    top[i + 1] = top[i + 1] - delta
    new = body[:off] + g1_to_bytes(top[i]) + g1_to_bytes(top[i + 1]) + body[off + 2 * G1_BYTES:]
    path.write_bytes(_rehash(new))
    with pytest.raises(SetupError, match="subgroup"):
        load(path, check_subgroup=True)
    s = load(path)
    assert not s.subgroup_checked
    f = [0] * (1 << N)
    f[i] = 1
    with pytest.raises(SetupError, match="subgroup"):
        commit(s, f)
    with pytest.raises(SetupError, match="subgroup"):
        kzg.open(s, f, [1] * N, rng=random.Random(0))
    g = [0] * (1 << N)
    g[10] = 5
    assert commit(s, g) == commit(srs6, g)  # untouched points still work


# --------------------------------------------------------------------- KZG

def test_evaluate_matches_definition():
    rng = random.Random(7)
    for m in range(4):
        f = [rng.randrange(R) for _ in range(1 << m)]
        z = [rng.randrange(R) for _ in range(m)]
        want = sum(f[b] * eq(bits_of(b, m), z) for b in range(1 << m)) % R
        assert evaluate(f, z) == want
        for b in range(1 << m):  # agrees with the table on the hypercube
            assert evaluate(f, bits_of(b, m)) == f[b]


def test_commit_is_in_the_last_variables(srs6, secrets6):
    taus, xi = secrets6
    rng = random.Random(8)
    for m in range(N + 1):
        f = [rng.randrange(R) for _ in range(1 << m)]
        rho = rng.randrange(R)
        want = G1Point() * scalar(evaluate(f, taus[N - m:]) + rho * xi)
        assert commit(srs6, f, rho) == want
        assert commit(srs6, f) == G1Point() * scalar(evaluate(f, taus[N - m:]))


def test_commit_rejects_bad_input(srs6):
    for bad in ([], [1, 2, 3], [0] * 6):
        with pytest.raises(ValueError):
            commit(srs6, bad)
    with pytest.raises(ValueError):
        commit(srs6, [0] * (1 << (N + 1)))
    with pytest.raises(ValueError):
        commit(srs6, [R, 0])
    with pytest.raises(ValueError):
        commit(srs6, [1, 0], blind=R)
    with pytest.raises(ValueError):
        kzg.open(srs6, [1, 2], [R])
    with pytest.raises(ValueError):
        kzg.open(srs6, [1, 2], [1, 1])
    with pytest.raises(ValueError):
        kzg.open(srs6, [1, R], [1])


@HSET
@given(st.integers(0, N), st.randoms(use_true_random=False))
def test_commit_is_linear(srs6, m, rnd):
    a = [rnd.randrange(R) for _ in range(1 << m)]
    b = [rnd.randrange(-3, 3) % R for _ in range(1 << m)]
    ra, rb = rnd.randrange(R), rnd.randrange(R)
    s = [(x + y) % R for x, y in zip(a, b)]
    assert commit(srs6, a, ra) + commit(srs6, b, rb) == commit(srs6, s, (ra + rb) % R)
    assert commit(srs6, a) + commit(srs6, b) == commit(srs6, s)
    c = rnd.randrange(R)
    assert commit(srs6, a) * scalar(c) == commit(srs6, [x * c % R for x in a])


def _tamper_cases(vk, C, z, v, proof, rng, other):
    """(name, args) for verify that must all be rejected."""
    m = len(z)
    g = G1Point()
    cases = [("value+1", (vk, C, z, (v + 1) % R, proof)),
             ("pi_xi", (vk, C, z, v, OpeningProof(list(proof.quotients), proof.pi_xi + g))),
             ("pi_xi=random", (vk, C, z, v, OpeningProof(list(proof.quotients), rand_point(rng)))),
             ("commitment", (vk, C + g, z, v, proof)),
             ("commitment=identity", (vk, G1Point.identity(), z, v, proof)),
             ("commitment=other", (vk, other, z, v, proof)),
             ("value R+v", (vk, C, z, v + R, proof)),
             ("too many quotients", (vk, C, z, v, OpeningProof(list(proof.quotients) + [g], proof.pi_xi))),
             ]
    for i in range(m):
        zz = list(z)
        zz[i] = (zz[i] + 1) % R
        cases.append((f"point[{i}]", (vk, C, zz, v, proof)))
        for rep in (g, G1Point.identity(), rand_point(rng)):
            qs = list(proof.quotients)
            qs[i] = rep
            cases.append((f"quotient[{i}]", (vk, C, z, v, OpeningProof(qs, proof.pi_xi))))
        if i + 1 < m:
            qs = list(proof.quotients)
            qs[i], qs[i + 1] = qs[i + 1], qs[i]
            cases.append((f"swap[{i}]", (vk, C, z, v, OpeningProof(qs, proof.pi_xi))))
    if m:
        cases.append(("too few quotients", (vk, C, z, v, OpeningProof(list(proof.quotients)[:-1], proof.pi_xi))))
        cases.append(("shorter point", (vk, C, z[:-1], v, OpeningProof(list(proof.quotients)[:-1], proof.pi_xi))))
    if proof.pi_xi != G1Point.identity():
        cases.append(("pi_xi=identity", (vk, C, z, v, OpeningProof(list(proof.quotients), G1Point.identity()))))
    cases.append(("longer point", (vk, C, list(z) + [0], v, OpeningProof(list(proof.quotients) + [g], proof.pi_xi))))
    return cases


@pytest.mark.parametrize("hiding", [False, True])
@pytest.mark.parametrize("m", range(N + 1))
def test_open_verify_and_tampering(srs6, vk6, m, hiding):
    rng = random.Random(100 + m + 10 * hiding)
    f = [rng.randrange(R) for _ in range(1 << m)]
    rho = rng.randrange(R) if hiding else 0
    C = commit(srs6, f, rho)
    z = [rng.randrange(R) for _ in range(m)]
    v, proof = kzg.open(srs6, f, z, rho, rng)
    assert v == evaluate(f, z)
    assert len(proof.quotients) == m
    assert verify(vk6, C, z, v, proof)
    # bytes round trip
    data = proof.to_bytes()
    assert len(data) == (m + 1) * G1_BYTES
    assert verify(vk6, g1_from_bytes(g1_to_bytes(C)), z, v, OpeningProof.from_bytes(data, m))
    # a proof for another polynomial (same point) does not verify against C
    f2 = list(f)
    f2[0] = (f2[0] + 1) % R
    v2, proof2 = kzg.open(srs6, f2, z, rho, rng)
    assert verify(vk6, commit(srs6, f2, rho), z, v2, proof2)
    assert not verify(vk6, C, z, v2, proof2)
    if m:  # (for m = 0 the proof is just rho*g: it does not depend on f)
        assert not verify(vk6, C, z, v, proof2)
    other = commit(srs6, f2, rho)
    for name, args in _tamper_cases(vk6, C, z, v, proof, rng, other):
        assert not verify(*args), name


def test_open_at_boolean_points_and_small_values(srs6, vk6):
    rng = random.Random(11)
    m = 4
    f = [rng.randrange(-100, 100) % R for _ in range(1 << m)]
    C = commit(srs6, f, 5)
    for b in (0, 7, 15):
        z = bits_of(b, m)
        v, proof = kzg.open(srs6, f, z, 5, rng)
        assert v == f[b]
        assert verify(vk6, C, z, v, proof)


def test_open_default_rng_and_hiding(srs6, vk6):
    f = [3, 1, 4, 1, 5, 9, 2, 6]
    z = [7, 8, 9]
    C = commit(srs6, f, 77)
    v, p1 = kzg.open(srs6, f, z, 77)          # secrets.SystemRandom()
    _, p2 = kzg.open(srs6, f, z, 77)
    assert verify(vk6, C, z, v, p1) and verify(vk6, C, z, v, p2)
    assert p1.quotients != p2.quotients and p1.pi_xi != p2.pi_xi  # fresh blinds
    # same rng seed -> same proof
    _, p3 = kzg.open(srs6, f, z, 77, random.Random(1))
    _, p4 = kzg.open(srs6, f, z, 77, random.Random(1))
    assert p3 == p4


def test_proof_is_bound_to_num_vars(srs6, vk6):
    """A proof for an m-variable polynomial does not verify as an (m+1)-variable one by
    padding the point (the tau offset changes)."""
    rng = random.Random(12)
    f = [rng.randrange(R) for _ in range(8)]
    C = commit(srs6, f, 0)
    z = [rng.randrange(R) for _ in range(3)]
    v, proof = kzg.open(srs6, f, z, 0, rng)
    assert verify(vk6, C, z, v, proof)
    # same polynomial viewed with an extra leading variable: f' = f (independent of x_0)
    f_ext = f + f
    assert commit(srs6, f_ext, 0) == C  # eq sums out the first variable
    v_ext, proof_ext = kzg.open(srs6, f_ext, [5] + z, 0, rng)
    assert v_ext == v and verify(vk6, C, [5] + z, v, proof_ext)
    # padding with a zero quotient is a valid proof of that same (true) statement
    assert verify(vk6, C, [5] + z, v, OpeningProof([G1Point.identity()] + list(proof.quotients),
                                                   proof.pi_xi))
    assert not verify(vk6, C, z[1:], v, OpeningProof(list(proof.quotients)[1:], proof.pi_xi))


def test_verify_rejects_bad_types_and_sizes(srs6, vk6):
    f = [1, 2, 3, 4]
    C = commit(srs6, f)
    v, proof = kzg.open(srs6, f, [5, 6], rng=random.Random(0))
    assert verify(vk6, C, [5, 6], v, proof)
    with pytest.raises(MalformedError):
        verify(vk6, g1_to_bytes(C), [5, 6], v, proof)
    assert not verify(vk6, C, [5, 6 + R], v, proof)
    assert not verify(vk6, C, [5, -1], v, proof)
    big = [0] * (N + 1)
    assert not verify(vk6, C, big, v, OpeningProof([C] * (N + 1), proof.pi_xi))
    small_vk = setup(1, random.Random(0)).verifier_key()
    assert not verify(small_vk, C, [5, 6], v, proof)


def test_opening_proof_bytes_rejections():
    g = G1Point()
    p = OpeningProof([g, g * scalar(2)], g * scalar(3))
    data = p.to_bytes()
    assert OpeningProof.from_bytes(data, 2) == p
    with pytest.raises(MalformedProofError):
        OpeningProof.from_bytes(data, 1)
    with pytest.raises(MalformedProofError):
        OpeningProof.from_bytes(data[:-1], 2)
    bad = bytearray(data)
    bad[0] = 1
    with pytest.raises(MalformedProofError, match="padding"):
        OpeningProof.from_bytes(bytes(bad), 2)
    with pytest.raises(MalformedProofError, match="subgroup"):
        OpeningProof.from_bytes(data[:128] + non_subgroup_g1_bytes() + data[256:], 2)


def test_larger_srs_small_poly():
    """m < n with a different n (the offset is n - m)."""
    rng = random.Random(13)
    s = setup(4, rng)
    vk = s.verifier_key()
    for m in (0, 1, 2, 4):
        f = [rng.randrange(R) for _ in range(1 << m)]
        z = [rng.randrange(R) for _ in range(m)]
        C = commit(s, f, 9)
        v, proof = kzg.open(s, f, z, 9, rng)
        assert verify(vk, C, z, v, proof)
        assert not verify(vk, C, z, (v + 1) % R, proof)


def test_row_bucketed_commitment_is_the_plain_commitment():
    """kzg.commit_rows (per-row point sums, one MSM over the rows) equals committing the
    column itself, with and without a blind, many entries on one row or spread out."""
    import numpy as np
    s = setup(11, rng=random.Random(8))
    rnd = random.Random(9)
    rows = [rnd.randrange(R) for _ in range(256)]
    idx = np.random.default_rng(2).integers(0, 256, 2048)
    idx[:1500] = 5  # one row over several thread-sized parts
    column = [rows[i] for i in idx]
    assert kzg.commit_rows(s, idx, rows, 0) == commit(s, column, 0)
    assert kzg.commit_rows(s, idx, rows, 77) == commit(s, column, 77)
    with pytest.raises(ValueError, match="outside the table"):
        kzg.commit_rows(s, np.full(2048, 256), rows)


# --------------------------------------------------------------------- batch opening (prover/pcs/batch.py)

def _batch_specs():
    from prover.context import TensorSpec
    return {
        "a": TensorSpec("a", (16,), "advice"),        # 4 variables
        "b": TensorSpec("b", (4, 8), "advice"),       # 5 variables
        "pool": TensorSpec("pool", (2, 8), "advice"),  # members p0, p1 of 3 variables each
        "p0": TensorSpec("p0", (8,), "advice"),
        "p1": TensorSpec("p1", (8,), "advice"),
        "big": TensorSpec("big", (32,), "advice"),    # 5 variables: 4 chunks of 3 when chunked
    }


def _batch_values(rng):
    vals = {t: [rng.randrange(R) for _ in range(n)] for t, n in (("a", 16), ("b", 32), ("big", 32))}
    vals["p0"], vals["p1"] = [rng.randrange(R) for _ in range(8)], [rng.randrange(R) for _ in range(8)]
    vals["pool"] = vals["p0"] + vals["p1"]
    return vals


def _run_batch(srs, vk, body, *, chunk_vars=0, tamper=None, verifier_body=None):
    """Commit a, b, pool, big; run ``body(ctx, vals)`` (it records claims) on a prover context,
    open them, then replay on a verifier context (``verifier_body`` instead of ``body`` if given)
    over the proof items, after ``tamper(frs, g1s)``. Raises what the verifier raises."""
    from prover.channel import ProverChannel, VerifierChannel
    from prover.context import ProverCtx, VerifierCtx, attach_commit
    from prover.pcs import batch
    from prover.rng import seeded
    from prover.transcript import Transcript

    vals = _batch_values(random.Random(11))
    pooled = {"p0": ("pool", [0]), "p1": ("pool", [1])}
    p = ProverCtx(ch=ProverChannel(Transcript()), specs=_batch_specs(), values=dict(vals), srs=srs, rng=seeded(1),
                  pooled=dict(pooled), chunk_vars=chunk_vars)
    for t in ("a", "b", "pool", "big"):
        attach_commit(p, t, "c")
    body(p, vals)
    batch.open_claims(p)
    frs, g1s = list(p.ch.frs), list(p.ch.g1s)
    if tamper:
        tamper(frs, g1s)
    v = VerifierCtx(ch=VerifierChannel(Transcript(), g1s, [g1_to_bytes(g) for g in g1s], frs), specs=_batch_specs(),
                    pooled=dict(pooled), chunk_vars=chunk_vars)
    for t in ("a", "b", "pool", "big"):
        attach_commit(v, t, "c")
    (verifier_body or body)(v, vals)
    batch.open_claims(v, vk)
    v.ch.assert_consumed()


def _rand_pt(rng, m):
    return [rng.randrange(R) for _ in range(m)]


def _plain_claims(ctx, vals):
    """Two claims on a, one on b, one on each pooled member, two on big (one at a boolean
    prefix: a single chunk when chunked); every value sent by the prover."""
    rng = random.Random(5)
    for tid, m in (("a", 4), ("b", 5), ("a", 4), ("p0", 3), ("p1", 3), ("big", 5)):
        ctx.claim(tid, _rand_pt(rng, m))
    ctx.claim("big", [1, 0] + _rand_pt(rng, 3))


def _weighted_terms(seed=6):
    rng = random.Random(seed)
    return {"a": [(rng.randrange(R), _rand_pt(rng, 4)) for _ in range(3)],
            "p1": [(rng.randrange(R), _rand_pt(rng, 3)) for _ in range(2)]}


def _weighted(ctx, vals, *, shift=0, coef_shift=0, tid_list=("a", "p1")):
    """Plain claims, then weighted claims on a and on pooled member p1, each value sent."""
    _plain_claims(ctx, vals)
    for tid in tid_list:
        terms = _weighted_terms()[tid]
        if ctx.is_prover:
            v = sum(c * kzg.evaluate(vals[tid], z) for c, z in terms) % R
            ctx.ch.send_fr("wclaim", (v + shift) % R)
            v = (v + shift) % R
        else:
            v = ctx.ch.recv_fr("wclaim")
        if coef_shift and not ctx.is_prover:
            terms = [((terms[0][0] + coef_shift) % R, terms[0][1])] + terms[1:]
        ctx.weighted_claim(tid, terms, v)


def test_batch_opening_plain_pooled_weighted_and_chunked_claims_verify(srs6, vk6):
    _run_batch(srs6, vk6, _plain_claims)
    _run_batch(srs6, vk6, _plain_claims, chunk_vars=3)
    _run_batch(srs6, vk6, _weighted)
    _run_batch(srs6, vk6, _weighted, chunk_vars=4)  # b and big are chunked; the weighted claims are not on them


def test_batch_opening_sends_no_evaluations(srs6):
    """Proof items of the opening: the sumcheck's rounds, n quotients and the hiding term only."""
    from prover.channel import ProverChannel
    from prover.context import ProverCtx, attach_commit
    from prover.pcs import batch
    from prover.rng import seeded
    from prover.transcript import Transcript

    vals = _batch_values(random.Random(11))
    p = ProverCtx(ch=ProverChannel(Transcript()), specs=_batch_specs(), values=vals, srs=srs6, rng=seeded(1),
                  pooled={"p0": ("pool", [0]), "p1": ("pool", [1])})
    for t in ("a", "b", "pool", "big"):
        attach_commit(p, t, "c")
    _weighted(p, vals)
    nfr, ng1 = len(p.ch.frs), len(p.ch.g1s)
    batch.open_claims(p)
    n = 5
    assert (len(p.ch.frs) - nfr, len(p.ch.g1s) - ng1) == (2 * n, n + 1)


def test_weighted_claim_recording():
    from prover.channel import ProverChannel
    from prover.context import Claim, ProverCtx
    from prover.transcript import Transcript

    p = ProverCtx(ch=ProverChannel(Transcript()), specs=_batch_specs(), pooled={"p1": ("pool", [1])})
    p.weighted_claim("p1", [(3, [5, 6, 7]), (R + 2, [8, 9, 10])], 11)
    p.weighted_claim("a", [(1, [1, 2, 3, 4])], R + 1)
    assert p.claims == [Claim("pool", [], 11, [(3, [1, 5, 6, 7]), (2, [1, 8, 9, 10])]),
                        Claim("a", [], 1, [(1, [1, 2, 3, 4])])]
    assert p.claims[0].num_vars == 4 and p.ch.frs == []  # nothing sent
    with pytest.raises(ValueError, match="coordinates"):
        p.weighted_claim("a", [(1, [1, 2, 3])], 0)
    with pytest.raises(ValueError, match="no terms"):
        p.weighted_claim("a", [], 0)


def test_weighted_claim_on_a_chunked_commitment_is_refused(srs6, vk6):
    def body(ctx, vals):
        ctx.weighted_claim("big", [(1, [2, 3, 4, 5, 6])], kzg.evaluate(vals["big"], [2, 3, 4, 5, 6]))
    with pytest.raises(ValueError, match="chunked"):
        _run_batch(srs6, vk6, body, chunk_vars=3)


def _opening_rejected(srs, vk, body=_weighted, **kw):
    from prover.errors import VerificationError
    with pytest.raises(VerificationError) as info:
        _run_batch(srs, vk, body, **kw)
    assert info.value.check == "opening"


def test_batch_opening_rejects_a_false_weighted_claim(srs6, vk6):
    """A cheating prover claims a wrong weighted value (and runs the protocol honestly on it)."""
    _opening_rejected(srs6, vk6, lambda c, v: _weighted(c, v, shift=1))
    _opening_rejected(srs6, vk6, lambda c, v: _weighted(c, v, shift=1, tid_list=("p1",)))


def test_batch_opening_rejects_a_tampered_weighted_value(srs6, vk6):
    """The value as received, altered: the verifier's H differs from the prover's sum."""
    from prover.errors import VerificationError
    with pytest.raises(VerificationError) as info:
        _run_batch(srs6, vk6, _weighted, tamper=lambda frs, g1s: frs.__setitem__(-11, (frs[-11] + 1) % R))
    assert info.value.check == "opening"


def test_batch_opening_rejects_a_wrong_coefficient(srs6, vk6):
    _opening_rejected(srs6, vk6, lambda c, v: _weighted(c, v, coef_shift=1))


@pytest.mark.parametrize("chunk_vars", [0, 4])
@pytest.mark.parametrize("where", ["last round", "first round", "quotient", "pi_xi"])
def test_batch_opening_rejects_tampered_items(srs6, vk6, where, chunk_vars):
    """n = 5 rounds of two coefficients end the field elements; n quotients and pi_xi end the points."""
    def tamper(frs, g1s):
        if where == "last round":
            frs[-1] = (frs[-1] + 1) % R
        elif where == "first round":
            frs[-10] = (frs[-10] + 1) % R
        else:
            i = -1 if where == "pi_xi" else -3
            g1s[i] = g1s[i] + G1Point()
    _opening_rejected(srs6, vk6, tamper=tamper, chunk_vars=chunk_vars)
