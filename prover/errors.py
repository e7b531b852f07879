"""Exception hierarchy of the proof system.

Three outcomes are kept apart (as c-kzg does):

* ``MalformedError`` (a ``ValueError``): bytes or arguments that do not parse into
  valid objects -- wrong lengths, non-canonical field elements, points off the curve.
* ``VerificationError``: well-formed input whose proof is false; carries which check
  failed and where (``check``, ``detail``).
* anything else is an internal failure (a bug), never a verdict on a proof.
"""
from __future__ import annotations


class ZkllmError(Exception):
    """Root of every error raised by the ``prover`` package."""


class MalformedError(ZkllmError, ValueError):
    """Input that cannot be parsed into valid typed objects."""


class MalformedProofError(MalformedError):
    """Proof bytes that are truncated, extended, non-canonical or of the wrong version."""


class VerificationError(ZkllmError):
    """A well-formed proof that is false. ``check`` names the failing check."""

    def __init__(self, check: str, detail: str = ""):
        self.check = check
        self.detail = detail
        super().__init__(f"{check}: {detail}" if detail else check)


class QuantizationRangeError(ZkllmError, ValueError):
    """A quantized value fell outside the range its lookup table covers."""


class SetupError(ZkllmError):
    """A structured reference string or key that is missing, corrupt, or too small."""


class UnsafeParameterError(MalformedError):
    """Quantization settings or circuit parameters outside the side conditions that the
    soundness arguments need (``prover.quant.check_*``); ``condition`` names the side
    condition, with the same name the Solidity verifier reverts with
    (``TDescription.UnsafeParameter``)."""

    def __init__(self, condition: str, detail: str = ""):
        self.condition = condition
        self.detail = detail
        super().__init__(f"unsafe parameter ({condition}): {detail}" if detail else f"unsafe parameter ({condition})")
