"""Public parameters: the SRS plus the committed function tables.

``setup`` is DEVELOPMENT-ONLY: the SRS trapdoor is generated in this process and
discarded (see ``pcs.srs``). A production deployment loads a ceremony SRS with
``pcs.srs.load`` and then calls ``commit_tables``.

* ``ProvingKey``: the SRS and the function tables (values, commitments).
* ``VerifyingKey``: the SRS's verifier part (G2 elements), the table commitments
  and a digest that the transcript absorbs first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import SetupError
from .lookup.tables import FUNCTIONS, FunctionTable
from .pcs import kzg, srs as srs_mod
from .pcs.curve import g1_from_bytes, g1_to_bytes, g2_from_bytes, g2_to_bytes
from .quant import QuantSpec
from .transcript import keccak256


def default_tables(quant: QuantSpec) -> list[FunctionTable]:
    return [FunctionTable(fn, quant.lookup_in_bits, quant.lookup_in_frac_bits, quant.act_frac_bits)
            for fn in sorted(FUNCTIONS)]


@dataclass
class VerifyingKey:
    srs_vk: object               # pcs.srs.VerifierKey
    tables: dict[str, object]    # table name -> G1 commitment of its output column

    def digest(self) -> bytes:
        body = self.srs_vk.digest + b"".join(
            keccak256(name.encode()) + g1_to_bytes(self.tables[name]) for name in sorted(self.tables))
        return keccak256(b"zkllm-vk/v1" + body)

    def to_json(self) -> str:
        v = self.srs_vk
        return json.dumps({
            "format": "zkllm-verifying-key", "version": 1, "num_vars": v.num_vars,
            "g1": g1_to_bytes(v.g1).hex(), "g2": g2_to_bytes(v.g2).hex(),
            "tau_g2": [g2_to_bytes(p).hex() for p in v.tau_g2], "xi_g2": g2_to_bytes(v.xi_g2).hex(),
            "srs_digest": v.digest.hex(),
            "tables": {k: g1_to_bytes(p).hex() for k, p in sorted(self.tables.items())},
            "digest": "0x" + self.digest().hex()}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "VerifyingKey":
        try:
            d = json.loads(text)
            svk = srs_mod.VerifierKey(
                num_vars=int(d["num_vars"]), g1=g1_from_bytes(bytes.fromhex(d["g1"])),
                g2=g2_from_bytes(bytes.fromhex(d["g2"])),
                tau_g2=[g2_from_bytes(bytes.fromhex(x)) for x in d["tau_g2"]],
                xi_g2=g2_from_bytes(bytes.fromhex(d["xi_g2"])), digest=bytes.fromhex(d["srs_digest"]))
            tables = {k: g1_from_bytes(bytes.fromhex(x)) for k, x in d["tables"].items()}
        except (ValueError, KeyError, TypeError) as e:
            raise SetupError(f"not a verifying key file: {e}") from e
        vk = cls(svk, tables)
        if "digest" in d and d["digest"] != "0x" + vk.digest().hex():
            raise SetupError("verifying key digest does not match its contents")
        return vk


@dataclass
class ProvingKey:
    srs: object                              # pcs.srs.SRS
    tables: dict[str, tuple[list[int], object]]  # name -> (output column as field elements, commitment)

    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey(self.srs.verifier_key(), {k: c for k, (_, c) in self.tables.items()})


def commit_tables(srs, quant: QuantSpec) -> dict[str, tuple[list[int], object]]:
    from .field import R
    out = {}
    for t in default_tables(quant):
        if t.bits > srs.num_vars:
            raise SetupError(f"SRS supports 2^{srs.num_vars} entries, table {t.name} needs 2^{t.bits}")
        vals = [v % R for v in t.outputs()]
        out[t.name] = (vals, kzg.commit(srs, vals, 0))
    return out


def setup(num_vars: int, quant: QuantSpec | None = None, rng=None) -> ProvingKey:
    """Development-only trusted setup for polynomials of up to 2^num_vars entries."""
    quant = quant or QuantSpec()
    s = srs_mod.setup(num_vars, rng=rng)
    return ProvingKey(s, commit_tables(s, quant))
