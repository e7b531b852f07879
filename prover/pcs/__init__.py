"""Polynomial commitments: hiding multilinear KZG over BLS12-381 (EIP-2537 encodings).

* ``curve`` -- group helpers, EIP-2537 point encodings, MSM, pairing check;
* ``srs``   -- the structured reference string, verifier key, (dev) setup, files;
* ``kzg``   -- commit / open / verify for multilinear polynomials given by hypercube values.
"""
from .curve import (FP_BYTES, G1_BYTES, G2_BYTES, G1Point, G2Point, g1_from_bytes, g1_generator,
                    g1_to_bytes, g2_from_bytes, g2_generator, g2_to_bytes, msm, msm_many,
                    pairing_check, scalar)
from .srs import SRS, VerifierKey, check_srs, load, save, setup
from .kzg import OpeningProof, commit, evaluate, open, verify  # noqa: F401  (open: see __all__)
from . import curve, kzg, srs

__all__ = [
    "FP_BYTES", "G1_BYTES", "G2_BYTES", "G1Point", "G2Point",
    "g1_from_bytes", "g1_to_bytes", "g2_from_bytes", "g2_to_bytes", "g1_generator", "g2_generator",
    "msm", "msm_many", "pairing_check", "scalar",
    "SRS", "VerifierKey", "setup", "check_srs", "save", "load",
    # ``open`` is importable (``from prover.pcs import open`` / ``kzg.open``) but left out
    # of ``__all__`` so that a star import does not shadow the builtin ``open``.
    "OpeningProof", "commit", "verify", "evaluate",
    "curve", "kzg", "srs",
]
