"""Whole decoder-only transformer proofs composed from the standalone ops (off-chain, Python)."""
