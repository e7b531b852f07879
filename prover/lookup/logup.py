"""tlookup: a logUp lookup argument over tensors, proven with sumcheck.

Instance: witness columns c = 1..C (each a tensor of m_c variables, or a pair of
tensors (in, out) for a function table) must all lie in a table T of 2^t rows.
With challenges beta, gamma the keys are k_j = in_j + gamma * out_j and
t_k = T_in(k) + gamma * T_out(k); logUp's identity is

    sum_c sum_j 1 / (beta + k^c_j) = sum_k m_k / (beta + t_k)

with multiplicities m committed before beta. Protocol (prover P, verifier V):

1. P commits m (phase 1, with the other witness tensors).
2. beta, gamma <- transcript. P commits A^c_j = 1/(beta + k^c_j) for every column
   and B_k = m_k / (beta + t_k). Nothing else is sent: no sum of the inverses (that
   sum would be a function of the private columns).
3. lambda, rho_w, mu, rho_t <- transcript. One sumcheck (rounds ``lk*/g``,
   challenges ``lk*/r``, degree 3, n = max(nw, nt) variables) of the claim 0:
     sum_c sum_j [A^c_j + lambda^(c+1) eq(rho_w, j) (A^c_j (beta + k^c_j) - 1)]
   - sum_k      [B_k   + mu           eq(rho_t, k) (B_k   (beta + t_k)   - m_k)] = 0
   Column c (m_c variables) and the table (nt variables) each live in the LAST
   m_c / nt of the n variables (``sumcheck`` docstring); rho_w has nw coordinates
   and column c uses its last m_c. At the sumcheck point z the final check (name
   ``lookup``) is
     sum_c 2^-(n - m_c) W_c(z[n - m_c:]) - 2^-(n - nt) T(z[n - nt:]) = expected
   with W_c, T the bracketed per-row terms as multilinear extensions. V evaluates
   eq and T_in itself; A, B, m, the witness columns and T_out are committed and
   their claimed values (``lk*/eval``, witness columns first, then B, m, T_out) are
   opened at the end. V never divides, so beta = -t_k cannot crash it; an honest
   prover that hits a zero denominator (probability ~ size/r) aborts.

Soundness. A^c, B and m are bound (committed) before lambda, rho_w, mu, rho_t are
drawn, and the columns and m before beta. Write e^c_j = A^c_j (beta + k^c_j) - 1,
f_k = B_k (beta + t_k) - m_k and E^c, F their multilinear extensions; the claimed
sum is
     S = (sum A - sum B) + sum_c lambda^(c+1) E^c(rho_w[nw - m_c:]) - mu F(rho_t).
 - If f != 0: S = c - mu F(rho_t) with c fixed before mu (it depends on lambda,
   rho_w), and mu is drawn before rho_t. If F is a nonzero constant, S = 0 for one mu
   only (probability 1/r); otherwise, for every mu != 0, mu F(x) - c is a nonzero
   multilinear polynomial in x, zero at rho_t with probability <= nt/r
   (Schwartz-Zippel): together <= (nt + 2)/r.
 - Else if some e^c != 0: E^c(rho_w ...) != 0 except with probability <= nw/r, and
   then S is a nonzero polynomial of degree <= C in lambda (the coefficient of
   lambda^(c+1)), zero with probability <= C/r.
 - Else every A^c_j is 1/(beta + k^c_j) (no A exists where beta + k^c_j = 0, since
   then e^c_j = -1) and every B_k is m_k/(beta + t_k), and S = 0 is logUp's identity
   sum_c sum_j 1/(beta + k^c_j) = sum_k m_k/(beta + t_k) at a beta drawn after the
   columns and m: as rational functions in beta the two sides differ unless every
   key is a table row (the column lengths are far below r, so a key outside the
   table is a pole of the left side the right side lacks), so equality at a random
   beta fails except with probability <= (sum_c 2^m_c + 2^nt)/r.
For a function table, gamma is drawn after the columns (and T_out is fixed by the setup): a
pair (in, out) that is not a row has the key of row k only for the one gamma solving
in + gamma out = T_in(k) + gamma T_out(k), so keys stand for pairs except with
probability <= (sum_c 2^m_c) 2^nt / r.
So an accepted claim 0 means every key lies in the table except with probability
about (C + nw + nt + 1 + sum_c 2^m_c + 2^nt + (sum_c 2^m_c) 2^nt)/r, plus the
sumcheck's 3n/r and the openings' binding.

The sum of the inverses is not sent. The sumcheck is shadowed (``prover.zk.shadow``): it runs
over one more variable b first with the selector (1 - b), every private operand (A^c, the
columns, B, m) carrying a fresh shadow entry of the mask pool at b = 1, so the values sent at
(r_b, z) are uniform and the final check reads (1 - r_b) times the expression above.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import sumcheck
from ..zk import mask as zkmask
from ..context import PUBLIC, attach_commit
from ..zk import shadow
from ..errors import VerificationError, ZkllmError
from ..field import R, fast, native
from ..field.ref import to_signed
from ..field.smallvec import SmallVec
from ..poly.mle import eq_eval, eq_table, eq_table_fast
from .tables import FunctionTable, RangeTable


@dataclass
class LookupInstance:
    label: str                       # short transcript label prefix, e.g. "lk0"
    table: RangeTable | FunctionTable
    columns: list[tuple[str, ...]]   # (key,) for ranges, (in, out) for functions
    table_out_id: str | None = None  # committed T_out column (function tables)
    # filled in by the circuit compiler:
    mult_id: str = ""
    a_ids: list[str] = field(default_factory=list)
    b_id: str = ""
    # per-run state
    beta: int = 0
    gamma: int = 0

    @property
    def pair(self) -> bool:
        return isinstance(self.table, FunctionTable)


def multiplicities(inst: LookupInstance, values: dict[str, list[int]]) -> list[int]:
    """Count how often each table row is used (prover side)."""
    m = [0] * inst.table.size
    lo = inst.table.lo if inst.pair else 0
    outs = inst.table.outputs() if inst.pair else None
    for col in inst.columns:
        if _small_column(inst, col, values):  # the same checks, vectorised
            idx, problem = _rows(inst, col, values)
            if problem:
                raise ZkllmError(problem)
            for i, c in enumerate(np.bincount(idx, minlength=inst.table.size).tolist()):
                m[i] += c
            continue
        for j, k in enumerate(values[col[0]]):
            idx = to_signed(k) - lo
            if not 0 <= idx < inst.table.size:
                raise ZkllmError(f"lookup {inst.label}: value {to_signed(k)} of '{col[0]}' not in table {inst.table.name}")
            if inst.pair and values[col[1]][j] != outs[idx] % R:
                raise ZkllmError(f"lookup {inst.label}: '{col[1]}'[{j}] is not {inst.table.fn} of its input")
            m[idx] += 1
    return m


def _small_column(inst: LookupInstance, col: tuple[str, ...], values) -> bool:
    return isinstance(values[col[0]], SmallVec) and (not inst.pair or isinstance(values[col[1]], SmallVec))


def _rows(inst: LookupInstance, col: tuple[str, ...], values) -> tuple[np.ndarray, str | None]:
    """(the table row each entry of a SmallVec column uses, None), or (None, what is wrong)
    when an entry is not a row of the table."""
    keys = values[col[0]].arr
    idx = keys - (inst.table.lo if inst.pair else 0)
    bad = np.nonzero((idx < 0) | (idx >= inst.table.size))[0]
    if len(bad):
        return None, f"lookup {inst.label}: value {int(keys[bad[0]])} of '{col[0]}' not in table {inst.table.name}"
    if inst.pair:
        want = np.asarray([to_signed(o % R) for o in inst.table.outputs()], dtype=np.int64)[idx]
        wrong = np.nonzero(values[col[1]].arr != want)[0]
        if len(wrong):
            return None, f"lookup {inst.label}: '{col[1]}'[{int(wrong[0])}] is not {inst.table.fn} of its input"
    return idx, None


def _row_index(inst: LookupInstance, col: tuple[str, ...], values):
    """The table row each entry of a column uses (int64 array), or None when the column is
    not a SmallVec or some entry is not a row of the table (a cheating prover's witness
    then takes the general path, and the proof fails verification)."""
    return _rows(inst, col, values)[0] if _small_column(inst, col, values) else None


def _table_keys(inst: LookupInstance, values) -> list[int]:
    t = [(k + (inst.table.lo if inst.pair else 0)) % R for k in range(inst.table.size)]
    if inst.pair:
        outs = values[inst.table_out_id]
        t = [(a + inst.gamma * b) % R for a, b in zip(t, outs)]
    return t


def _col_keys(inst: LookupInstance, col: tuple[str, ...], values) -> list[int]:
    if inst.pair:
        return [(a + inst.gamma * b) % R for a, b in zip(values[col[0]], values[col[1]])]
    return list(values[col[0]])


def commit_inverses(ctx, inst: LookupInstance) -> None:
    """Phase 2: draw beta, gamma; commit A^c and B."""
    inst.beta = ctx.ch.challenge(f"{inst.label}/beta")
    inst.gamma = ctx.ch.challenge(f"{inst.label}/gamma") if inst.pair else 0
    if ctx.is_prover:
        v = ctx.values
        row_inv = None
        for col, aid in zip(inst.columns, inst.a_ids):
            try:
                rows = _row_index(inst, col, v)
                if rows is not None and len(rows) >= native.MIN_LEN and native.available():
                    # A[i] = 1/(beta + T[row i]): one inversion per table row, and the commitment
                    # sums the Lagrange points per row before one MSM (kzg.commit_rows)
                    if row_inv is None:
                        row_inv = native.inv_shifted(native.from_ints(_table_keys(inst, v)), inst.beta)
                    v[aid] = row_inv[rows]
                    ctx.commit_rows[aid] = (rows, native.to_ints(row_inv))
                    continue
                if len(v[col[0]]) >= native.MIN_LEN and native.available():  # A as a native vector
                    if inst.pair:
                        keys = native.lincomb([native.operand(v[col[0]]), native.operand(v[col[1]])], [1, inst.gamma])
                    else:
                        keys = native.cached(v[col[0]])  # the inversion kernel reads limbs
                    v[aid] = native.inv_shifted(keys, inst.beta)
                    continue
                keys = _col_keys(inst, col, v)
                v[aid] = fast.batch_inv([(inst.beta + k) % R for k in keys])
            except ZeroDivisionError as e:
                raise ZkllmError("lookup challenge hit a zero denominator; re-run the prover") from e
        tk = _table_keys(inst, v)
        mult = v[inst.mult_id]
        nz = [k for k, c in enumerate(mult) if c]
        inv = fast.batch_inv([(inst.beta + tk[k]) % R for k in nz])
        b = [0] * len(mult)
        for k, iv in zip(nz, inv):
            b[k] = mult[k] * iv % R
        v[inst.b_id] = b
    for aid in inst.a_ids:
        attach_commit(ctx, aid, f"{inst.label}/A")
    attach_commit(ctx, inst.b_id, f"{inst.label}/B")


def run_sumchecks(ctx, inst: LookupInstance) -> None:
    """Phase 3: the one zero-sum sumcheck (witness side minus table side); records the claims."""
    ch = ctx.ch
    specs = ctx.specs
    nw = max(specs[c[0]].num_vars for c in inst.columns)
    nt = inst.table.bits
    n = max(nw, nt)
    lam = ch.challenge(f"{inst.label}/lambda")
    rho_w = ch.challenges(f"{inst.label}/rho_w", nw)
    mu = ch.challenge(f"{inst.label}/mu")
    rho_t = ch.challenges(f"{inst.label}/rho_t", nt)
    beta, gamma = inst.beta, inst.gamma
    lams = [pow(lam, c + 1, R) for c in range(len(inst.columns))]

    shadows = _take_shadows(ctx, inst)
    if ctx.is_prover:
        v = ctx.values
        terms = []
        for col, aid, lc in zip(inst.columns, inst.a_ids, lams):
            m = specs[col[0]].num_vars
            eq = eq_table_fast(rho_w[nw - m:])
            a = v[aid]
            terms += [sumcheck.Term(1, [a]),
                      sumcheck.Term(lc * beta % R, [eq, a]),
                      sumcheck.Term(lc, [eq, a, v[col[0]]]),
                      sumcheck.Term((-lc) % R, [eq])]
            if inst.pair:
                terms.append(sumcheck.Term(lc * gamma % R, [eq, a, v[col[1]]]))
        eq = eq_table(rho_t)
        b, mult = v[inst.b_id], v[inst.mult_id]
        tin = [(k + (inst.table.lo if inst.pair else 0)) % R for k in range(inst.table.size)]
        terms += [sumcheck.Term(R - 1, [b]),
                  sumcheck.Term((-mu * beta) % R, [eq, b]),
                  sumcheck.Term((-mu) % R, [eq, b, tin]),
                  sumcheck.Term(mu, [eq, mult])]
        if inst.pair:
            terms.append(sumcheck.Term((-mu * gamma) % R, [eq, b, v[inst.table_out_id]]))
        shifts = {id(v[t]): zkmask.shadow_value(ctx, blk) for t, blk in shadows.items()}
        point = shadow.prove(ctx, inst.label, n, 3, 3, terms, shifts)
        expected_f = None
    else:
        sub = shadow.verify(ctx, inst.label, n, 3, 3, 0)
        point, expected_f = sub.point, sub.expected
    rb, point = point[0], point[1:]

    def claim(tid, p):
        return shadow.claim(ctx, tid, p, rb, shadows.get(tid), f"{inst.label}/eval")

    # witness side: every column at the last m_c coordinates of the point
    expected = 0
    for col, aid, lc in zip(inst.columns, inst.a_ids, lams):
        m = specs[col[0]].num_vars
        p = point[n - m:]
        eq = eq_eval(rho_w[nw - m:], p)
        a = claim(aid, p)
        key = claim(col[0], p)
        if inst.pair:
            key = (key + gamma * claim(col[1], p)) % R
        inner = (a + lc * eq % R * ((a * (beta + key) - 1) % R)) % R
        expected += sumcheck.term_weight(inner, n, m)

    # table side: the table at the last nt coordinates, subtracted
    p = point[n - nt:]
    eq = eq_eval(rho_t, p)
    b = claim(inst.b_id, p)
    mult = claim(inst.mult_id, p)
    tkey = inst.table.in_mle(p)
    if inst.pair:
        tkey = (tkey + gamma * ctx.claim(inst.table_out_id, p, f"{inst.label}/eval")) % R
    inner = (b + mu * eq % R * ((b * (beta + tkey) - mult) % R)) % R
    expected -= sumcheck.term_weight(inner, n, nt)
    shadow.close(ctx, [rb], expected_f, expected % R, n, None, None, "lookup",
                 f"{inst.label}: final check failed ({inst.table.name})")


def _take_shadows(ctx, inst: LookupInstance) -> dict[str, int]:
    """The shadow block of every private operand of the lookup's sumcheck, in a fixed order:
    per column A^c, its input (and output), then B and m (``prover.zk.shadow``). The key table
    T_out and the table's input side are public."""
    tids = []
    for col, aid in zip(inst.columns, inst.a_ids):
        tids += [aid, *col]
    tids += [inst.b_id, inst.mult_id]
    if len(set(tids)) != len(tids):
        raise ValueError(f"lookup {inst.label}: a tensor appears twice among its operands")
    return {t: shadow.take(ctx, ctx.spec(t).kind in PUBLIC) for t in tids}
