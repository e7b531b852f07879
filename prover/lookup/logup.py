"""tlookup: a logUp lookup argument over tensors, proven with sumcheck.

Instance: witness columns c = 1..C (each a tensor of m_c variables, or a pair of
tensors (in, out) for a function table) must all lie in a table T of 2^t rows.
With challenges beta, gamma the keys are k_j = in_j + gamma * out_j and
t_k = T_in(k) + gamma * T_out(k); logUp's identity is

    sum_c sum_j 1 / (beta + k^c_j) = sum_k m_k / (beta + t_k)

with multiplicities m committed before beta. Protocol (prover P, verifier V):

1. P commits m (phase 1, with the other witness tensors).
2. beta, gamma <- transcript. P commits A^c_j = 1/(beta + k^c_j) for every column
   and B_k = m_k / (beta + t_k), then sends sigma = sum_c sum_j A^c_j.
3. lambda, rho_w, mu, rho_t <- transcript. Two sumchecks (degree 3):
     sum_c sum_j A^c_j + lambda^c eq(rho_w, j) (A^c_j (beta + k^c_j) - 1)   = sigma
     sum_k     B_k     + mu       eq(rho_t, k) (B_k   (beta + t_k)   - m_k) = sigma
   Since sigma is fixed before lambda and mu, both sums force every inverse to be
   well formed and both sides to sum to sigma. V evaluates eq and T_in itself;
   A, B, m, the witness columns and T_out are committed and their claimed values
   are opened at the end. V never divides, so beta = -t_k cannot crash it; an
   honest prover that hits a zero denominator (probability ~ size/r) aborts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import sumcheck
from ..context import attach_commit
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
    sigma: int = 0

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
    """Phase 2: draw beta, gamma; commit A^c and B; send sigma."""
    inst.beta = ctx.ch.challenge(f"{inst.label}/beta")
    inst.gamma = ctx.ch.challenge(f"{inst.label}/gamma") if inst.pair else 0
    if ctx.is_prover:
        v = ctx.values
        sigma = 0
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
                    sigma += native.total(v[aid])
                    continue
                if len(v[col[0]]) >= native.MIN_LEN and native.available():  # A as a native vector
                    if inst.pair:
                        keys = native.lincomb([native.operand(v[col[0]]), native.operand(v[col[1]])], [1, inst.gamma])
                    else:
                        keys = native.cached(v[col[0]])  # the inversion kernel reads limbs
                    v[aid] = native.inv_shifted(keys, inst.beta)
                    sigma += native.total(v[aid])
                    continue
                keys = _col_keys(inst, col, v)
                v[aid] = fast.batch_inv([(inst.beta + k) % R for k in keys])
            except ZeroDivisionError as e:
                raise ZkllmError("lookup challenge hit a zero denominator; re-run the prover") from e
            sigma += sum(v[aid])
        tk = _table_keys(inst, v)
        mult = v[inst.mult_id]
        nz = [k for k, c in enumerate(mult) if c]
        inv = fast.batch_inv([(inst.beta + tk[k]) % R for k in nz])
        b = [0] * len(mult)
        for k, iv in zip(nz, inv):
            b[k] = mult[k] * iv % R
        v[inst.b_id] = b
        inst.sigma = sigma % R
    for aid in inst.a_ids:
        attach_commit(ctx, aid, f"{inst.label}/A")
    attach_commit(ctx, inst.b_id, f"{inst.label}/B")
    if ctx.is_prover:
        ctx.ch.send_fr(f"{inst.label}/sigma", inst.sigma)
    else:
        inst.sigma = ctx.ch.recv_fr(f"{inst.label}/sigma")


def run_sumchecks(ctx, inst: LookupInstance) -> None:
    """Phase 3: the witness-side and table-side sumchecks; records the claims."""
    ch = ctx.ch
    specs = ctx.specs
    nw = max(specs[c[0]].num_vars for c in inst.columns)
    nt = inst.table.bits
    lam = ch.challenge(f"{inst.label}/lambda")
    rho_w = ch.challenges(f"{inst.label}/rho_w", nw)
    mu = ch.challenge(f"{inst.label}/mu")
    rho_t = ch.challenges(f"{inst.label}/rho_t", nt)
    beta, gamma = inst.beta, inst.gamma
    lams = [pow(lam, c + 1, R) for c in range(len(inst.columns))]

    # ---- witness side
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
        out = sumcheck.prove(ch, f"{inst.label}/w", nw, 3, terms)
        point = out.point
    else:
        sub = sumcheck.verify(ch, f"{inst.label}/w", nw, 3, inst.sigma)
        point = sub.point
    expected = 0
    for col, aid, lc in zip(inst.columns, inst.a_ids, lams):
        m = specs[col[0]].num_vars
        p = point[nw - m:]
        eq = eq_eval(rho_w[nw - m:], p)
        a = ctx.claim(aid, p, f"{inst.label}/eval")
        key = ctx.claim(col[0], p, f"{inst.label}/eval")
        if inst.pair:
            key = (key + gamma * ctx.claim(col[1], p, f"{inst.label}/eval")) % R
        inner = (a + lc * eq % R * ((a * (beta + key) - 1) % R)) % R
        expected += sumcheck.term_weight(1, nw, m) * inner
    if not ctx.is_prover and expected % R != sub.expected:
        raise VerificationError("lookup", f"{inst.label}: witness-side final check failed ({inst.table.name})")

    # ---- table side
    if ctx.is_prover:
        eq = eq_table(rho_t)
        b, mult = v[inst.b_id], v[inst.mult_id]
        tin = [(k + (inst.table.lo if inst.pair else 0)) % R for k in range(inst.table.size)]
        terms = [sumcheck.Term(1, [b]),
                 sumcheck.Term(mu * beta % R, [eq, b]),
                 sumcheck.Term(mu, [eq, b, tin]),
                 sumcheck.Term((-mu) % R, [eq, mult])]
        if inst.pair:
            terms.append(sumcheck.Term(mu * gamma % R, [eq, b, v[inst.table_out_id]]))
        out = sumcheck.prove(ch, f"{inst.label}/t", nt, 3, terms)
        point = out.point
    else:
        sub = sumcheck.verify(ch, f"{inst.label}/t", nt, 3, inst.sigma)
        point = sub.point
    eq = eq_eval(rho_t, point)
    b = ctx.claim(inst.b_id, point, f"{inst.label}/eval")
    mult = ctx.claim(inst.mult_id, point, f"{inst.label}/eval")
    tkey = inst.table.in_mle(point)
    if inst.pair:
        tkey = (tkey + gamma * ctx.claim(inst.table_out_id, point, f"{inst.label}/eval")) % R
    expected = (b + mu * eq % R * ((b * (beta + tkey) - mult) % R)) % R
    if not ctx.is_prover and expected != sub.expected:
        raise VerificationError("lookup", f"{inst.label}: table-side final check failed ({inst.table.name})")
