"""The BLS12-381 scalar field F_r.

Elements are Python ints in ``[0, R)``. Signed quantized integers embed as
``x mod R``. ``ref`` is the readable definition; ``fast`` has the same API with
faster vector paths (gmpy2 integers, float64 limb GEMM). Both are tested against
each other in ``tests/test_field.py``.
"""
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
"""Order of the BLS12-381 scalar field (the group order r)."""

MODULUS_BITS = 255
FR_BYTES = 32

from . import ref, fast  # noqa: E402  (constants first: submodules import R)

__all__ = ["R", "MODULUS_BITS", "FR_BYTES", "ref", "fast"]
