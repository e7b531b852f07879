/* Vector kernels over the BLS12-381 scalar field F_r (prover/field/native.py loads this).
 *
 * Elements are 4 little-endian 64-bit limbs in canonical form [0, r). Products use
 * Montgomery multiplication (CIOS, R = 2^256): mont(x, y) = x y R^-1 mod r, so
 * mont(x, to_mont(c)) = x c for a canonical x; a product of k canonical factors carries
 * R^-(k-1), which is removed once per sum. Loops over elements are split across threads
 * with OpenMP when compiled with it; per-thread partial sums are added in thread order,
 * so results do not depend on the thread count (field addition is exact anyway). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef unsigned __int128 u128;
typedef struct { uint64_t l[4]; } fr;

static const fr MOD = {{0xffffffff00000001ULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL,
                        0x73eda753299d7d48ULL}};
static const uint64_t INV = 0xfffffffeffffffffULL; /* -r^-1 mod 2^64 */
static const fr R2 = {{0xc999e990f3f29c6dULL, 0x2b6cedcb87925c23ULL, 0x05d314967254398fULL,
                       0x0748d9d99f59ff11ULL}}; /* 2^512 mod r */

static inline int geq_mod(const fr *a) {
    for (int i = 3; i >= 0; i--) {
        if (a->l[i] > MOD.l[i]) return 1;
        if (a->l[i] < MOD.l[i]) return 0;
    }
    return 1;
}

static inline void sub_mod_raw(fr *a) { /* a -= r */
    u128 b = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->l[i] - MOD.l[i] - b;
        a->l[i] = (uint64_t)d;
        b = (d >> 64) & 1;
    }
}

static inline fr add(fr a, const fr b) { /* r < 2^255: a + b < 2^256, no carry out */
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)a.l[i] + b.l[i];
        a.l[i] = (uint64_t)c;
        c >>= 64;
    }
    if (geq_mod(&a)) sub_mod_raw(&a);
    return a;
}

static inline fr sub(fr a, const fr b) {
    u128 br = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a.l[i] - b.l[i] - br;
        a.l[i] = (uint64_t)d;
        br = (d >> 64) & 1;
    }
    if (br) { /* add r back */
        u128 c = 0;
        for (int i = 0; i < 4; i++) {
            c += (u128)a.l[i] + MOD.l[i];
            a.l[i] = (uint64_t)c;
            c >>= 64;
        }
    }
    return a;
}

static inline fr mont(const fr a, const fr b) {
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a.l[j] * b.l[i] + t[j];
            t[j] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (uint64_t)c;
        t[5] = (uint64_t)(c >> 64);
        uint64_t m = t[0] * INV;
        c = (u128)m * MOD.l[0] + t[0];
        c >>= 64;
        for (int j = 1; j < 4; j++) {
            c += (u128)m * MOD.l[j] + t[j];
            t[j - 1] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[3] = (uint64_t)c;
        t[4] = t[5] + (uint64_t)(c >> 64);
    }
    fr out = {{t[0], t[1], t[2], t[3]}};
    if (t[4] || geq_mod(&out)) sub_mod_raw(&out);
    return out;
}

static inline fr to_mont(const fr a) { return mont(a, R2); }

static inline fr load(const uint64_t *p) { fr x; memcpy(x.l, p, 32); return x; }
static inline void store(uint64_t *p, const fr x) { memcpy(p, x.l, 32); }

static const fr ZERO = {{0, 0, 0, 0}};

/* A factor is either field elements (kind 0: 4 limbs each) or small signed integers
 * (kind 1: int64, |x| < 2^62, standing for x mod r). */
static inline fr load_i64(const int64_t *p, size_t i) {
    int64_t x = p[i];
    if (x >= 0) return (fr){{(uint64_t)x, 0, 0, 0}};
    fr v = MOD;
    v.l[0] -= (uint64_t)(-x); /* |x| < 2^62 < MOD.l[0]: no borrow */
    return v;
}

static inline fr load_k(const void *p, int kind, size_t i) {
    return kind ? load_i64((const int64_t *)p, i) : load((const uint64_t *)p + 4 * i);
}

/* R^k mod r in Montgomery form times R^-1 ... : fix(s, k) = s R^k (undoes k mont steps). */
static fr fix(fr s, int k) {
    fr rm = to_mont((fr){{1, 0, 0, 0}}); /* R mod r */
    for (int i = 0; i < k; i++) s = mont(s, to_mont(rm)); /* s * R */
    return s;
}

static int nthreads(size_t n) {
#ifdef _OPENMP
    if (n < 4096) return 1;
    return omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}

/* out[i] = a[i] + c (a[h + i] - a[i]), i < h: bind the first variable to c. */
void fr_fold(const void *a, int kind, size_t h, const uint64_t *c, uint64_t *out) {
    fr cm = to_mont(load(c));
    long n = (long)h;
#pragma omp parallel for schedule(static) num_threads(nthreads(h))
    for (long i = 0; i < n; i++) {
        fr lo = load_k(a, kind, (size_t)i), hi = load_k(a, kind, h + (size_t)i);
        store(out + 4 * i, add(lo, mont(sub(hi, lo), cm)));
    }
}

/* out[t] = sum_{i<h} prod_j (lo_j[i] + t (hi_j[i] - lo_j[i])) for t = 0..d, with
 * lo_j = f_j[0:h], hi_j = f_j[h:2h] (the round polynomial of a product term). With d = 0
 * only lo_j is read: out[0] = sum_{i<h} prod_j f_j[i] (fr_product_sum). */
void fr_round_evals(const void **facs, const int *kinds, int k, size_t h, int d, uint64_t *out) {
    int nt = nthreads(h);
    fr *part = calloc((size_t)nt * (d + 1), sizeof(fr));
    long n = (long)h;
#pragma omp parallel num_threads(nt)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        fr *acc = part + (size_t)tid * (d + 1);
        fr cur[16], df[16];
#pragma omp for schedule(static)
        for (long i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                cur[j] = load_k(facs[j], kinds[j], (size_t)i);
                if (d) df[j] = sub(load_k(facs[j], kinds[j], h + (size_t)i), cur[j]);
            }
            for (int t = 0; t <= d; t++) {
                if (t) for (int j = 0; j < k; j++) cur[j] = add(cur[j], df[j]);
                fr p = cur[0];
                for (int j = 1; j < k; j++) p = mont(p, cur[j]);
                acc[t] = add(acc[t], p);
            }
        }
    }
    for (int t = 0; t <= d; t++) {
        fr s = ZERO;
        for (int q = 0; q < nt; q++) s = add(s, part[(size_t)q * (d + 1) + t]);
        store(out + 4 * t, fix(s, k - 1));
    }
    free(part);
}

/* out = sum_i prod_j f_j[i], i < n. */
void fr_product_sum(const void **facs, const int *kinds, int k, size_t n, uint64_t *out) {
    fr_round_evals(facs, kinds, k, n, 0, out);
}

/* out[b] = eq(b, z) for b in {0,1}^m, b's most significant bit paired with z[0]. */
void fr_eq_table(const uint64_t *z, int m, uint64_t *out) {
    store(out, (fr){{1, 0, 0, 0}});
    fr *prev = malloc(sizeof(fr) << (m > 0 ? m - 1 : 0));
    for (int v = 0; v < m; v++) {
        fr zm = to_mont(load(z + 4 * v));
        long len = 1L << v;
        memcpy(prev, out, sizeof(fr) * (size_t)len);
        /* entry i of the previous table becomes 2i (times 1 - z) and 2i + 1 (times z) */
#pragma omp parallel for schedule(static) num_threads(nthreads((size_t)len))
        for (long i = 0; i < len; i++) {
            fr hi = mont(prev[i], zm);
            store(out + 4 * (2 * i + 1), hi);
            store(out + 4 * (2 * i), sub(prev[i], hi));
        }
    }
    free(prev);
}

/* out[i] = sum_j c_j a_j[i] (c_j canonical; a_j of either kind). */
void fr_lincomb(const void **arrs, const int *kinds, const uint64_t *coeffs, int k, size_t n, uint64_t *out) {
    fr cm[64];
    for (int j = 0; j < k; j++) cm[j] = to_mont(load(coeffs + 4 * j));
    long nn = (long)n;
#pragma omp parallel for schedule(static) num_threads(nthreads(n))
    for (long i = 0; i < nn; i++) {
        fr s = ZERO;
        for (int j = 0; j < k; j++) s = add(s, mont(load_k(arrs[j], kinds[j], (size_t)i), cm[j]));
        store(out + 4 * i, s);
    }
}

/* out[i] = a[i] b[i]. */
void fr_mul(const uint64_t *a, const uint64_t *b, size_t n, uint64_t *out) {
    long nn = (long)n;
#pragma omp parallel for schedule(static) num_threads(nthreads(n))
    for (long i = 0; i < nn; i++)
        store(out + 4 * i, mont(to_mont(load(a + 4 * i)), load(b + 4 * i)));
}

int fr_threads(void) { return nthreads(1 << 20); }

static fr mont_pow_rm2(fr xm) { /* xm^(r-2) in Montgomery form, xm in Montgomery form */
    static const uint64_t E[4] = {0xfffffffeffffffffULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL,
                                  0x73eda753299d7d48ULL}; /* r - 2 */
    fr acc = to_mont((fr){{1, 0, 0, 0}});
    for (int i = 3; i >= 0; i--)
        for (int b = 63; b >= 0; b--) {
            acc = mont(acc, acc);
            if ((E[i] >> b) & 1) acc = mont(acc, xm);
        }
    return acc;
}

static int is_zero(const fr *a) { return !(a->l[0] | a->l[1] | a->l[2] | a->l[3]); }

/* out[i] = 1 / (beta + keys[i]) by Montgomery's trick, one inversion per thread's segment.
 * Returns 0, or 1 (nothing useful written) if some beta + keys[i] is zero. */
int fr_inv_shifted(const uint64_t *keys, size_t n, const uint64_t *beta, uint64_t *out) {
    fr b = load(beta);
    int nt = nthreads(n);
    int bad = 0;
    fr *pre = malloc(sizeof(fr) * (n ? n : 1));
#pragma omp parallel num_threads(nt) reduction(| : bad)
    {
        int tid = 0, cnt = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        cnt = omp_get_num_threads();
#endif
        size_t lo = n * (size_t)tid / (size_t)cnt, hi = n * (size_t)(tid + 1) / (size_t)cnt;
        fr acc = to_mont((fr){{1, 0, 0, 0}});
        for (size_t i = lo; i < hi; i++) {
            fr x = add(b, load(keys + 4 * i));
            if (is_zero(&x)) bad = 1;
            pre[i] = acc;
            acc = mont(acc, to_mont(x));
        }
        if (!bad && hi > lo) {
            fr inv = mont_pow_rm2(acc); /* (prod x)^-1, Montgomery form */
            fr one = {{1, 0, 0, 0}};
            for (size_t i = hi; i-- > lo;) {
                fr xm = to_mont(add(b, load(keys + 4 * i)));
                store(out + 4 * i, mont(mont(inv, pre[i]), one)); /* back to canonical */
                inv = mont(inv, xm);
            }
        }
    }
    free(pre);
    return bad;
}
