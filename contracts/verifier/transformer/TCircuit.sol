// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice One op of a circuit description (`prover/circuit_desc.py`): its type code, tensor
///         ids and integer params in the order its encoder writes them, and its transcript
///         label (ASCII, left-aligned in a word, `labelLen` bytes).
struct TOp {
    uint256 kind;
    uint256[] t;
    uint256[] p;
    bytes32 label;
    uint256 labelLen;
}

/// @notice `prover/lookup/logup.py` LookupInstance, with its per-run state.
/// @dev tableKind: 0 range table, 1 function table (lo = -2^(bits-1)), 2 exp table (lo = 0).
struct TLookup {
    uint256 index;
    uint256 tableKind;
    uint256 bits;
    uint256 tableOut;
    uint256 mult;
    uint256 bId;
    uint256[] colIn;
    uint256[] colOut;
    uint256[] aIds;
    uint256 beta;
    uint256 gamma;
}

/// @notice A parsed circuit description. Tensors are numbered in `specs` order; per tensor:
///         kind (`Circuit.sol` KIND_*), num_vars, producer (op index + 1, 0: none) and
///         commitment (memory pointer to a 128-byte G1 encoding, 0 while unknown).
struct TCircuit {
    bytes32 digest;
    bytes32 headerHash;
    uint256 rows;
    uint256[] kind;
    uint256[] numVars;
    uint256[] producer;
    uint256[] commitment;
    uint256[] witness;
    uint256[] keyTid;
    bytes32[] keyName;
    TLookup[] lookups;
    TOp[] ops;
    uint256[] roots;
    uint256 maxNumVars; // over non-virtual tensors
    uint256 nModel;
    uint256[] poolOf; // per tensor: 0, or (pool + 1) | prefix bits << 16 | prefix << 24 (empty: no pools)
}

/// @title TDescription
/// @notice Parses the bytes of `prover/circuit_desc.py` `describe` (layout documented there)
///         from memory into a `TCircuit`.
library TDescription {
    /// @notice The stored description is malformed at byte `offset`.
    error BadDescription(uint256 offset);
    /// @notice A parameter breaks a side condition of the soundness arguments (Python:
    ///         `UnsafeParameterError(condition)`, `prover/quant.py`).
    error UnsafeParameter(bytes32 condition);

    // `prover/quant.py`: MAX_DIGIT_BITS, MAX_WIDTH, MAX_TABLE_BITS
    uint256 private constant MAX_DIGIT_BITS = 16;
    uint256 private constant MAX_WIDTH = 64;
    uint256 private constant MAX_TABLE_BITS = 20;
    // op type codes (`prover/circuit_desc.py`, TOps.sol)
    uint256 private constant OP_RESCALE = 1;
    uint256 private constant OP_RANGE_BOUND = 2;
    uint256 private constant OP_NORM = 15;
    uint256 private constant OP_SOFTMAX = 16;
    uint256 private constant OP_ARGMAX = 17;
    uint256 internal constant OP_WEIGHT_BOUND = 21;
    /// @dev `prover.weights.compile_weights`: widths in [1, 128].
    uint256 private constant MAX_WEIGHT_WIDTH = 128;

    uint256 internal constant NONE = 0xffff;
    uint256 internal constant KIND_MODEL = 3;
    uint256 internal constant KIND_VIRTUAL = 7;

    function _rd(uint256 p, uint256 n) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, n)), mload(p))
        }
    }

    /// @dev n big-endian u16 values at memory p, p + stride, ...
    function _u16s(uint256 p, uint256 n, uint256 stride) private pure returns (uint256[] memory a) {
        a = new uint256[](n);
        assembly ("memory-safe") {
            let o := add(a, 32)
            let end := add(o, shl(5, n))
            for {} lt(o, end) { o := add(o, 32) } {
                mstore(o, shr(240, mload(p)))
                p := add(p, stride)
            }
        }
    }

    /// @notice The circuit digest of a description at memory `ptr` (bytes 5..37).
    function digestOf(uint256 ptr) internal pure returns (bytes32 d) {
        assembly ("memory-safe") {
            d := mload(add(ptr, 5))
        }
    }

    function parse(uint256 ptr, uint256 len) internal pure returns (TCircuit memory c) {
        if (len < 75 || _rd(ptr, 4) != 0x5a4b4344 || _rd(ptr + 4, 1) != 2) revert BadDescription(0);
        uint256 p = ptr + 5;
        uint256 end = ptr + len;
        assembly ("memory-safe") {
            mstore(c, mload(p))
            mstore(add(c, 32), mload(add(p, 32)))
        }
        c.rows = _rd(p + 64, 4);
        p += 68;
        p = _tensors(c, p);
        uint256 n = _rd(p, 2);
        p += 2;
        c.witness = _u16s(p, n, 2);
        p += 2 * n;
        n = _rd(p, 2);
        p += 2;
        if (n != 0) c.poolOf = new uint256[](c.kind.length);
        for (uint256 i = 0; i < n; ++i) {
            uint256 w = _rd(p, 9); // member u16 | pool u16 | prefix bits u8 | prefix u32
            c.poolOf[w >> 56] = (((w >> 40) & 0xffff) + 1) | (((w >> 32) & 0xff) << 16) | ((w & 0xffffffff) << 24);
            p += 9;
        }
        n = _rd(p, 1);
        p += 1;
        c.keyTid = new uint256[](n);
        c.keyName = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            c.keyTid[i] = _rd(p, 2);
            c.keyName[i] = bytes32(_rd(p + 2, 32));
            p += 34;
        }
        p = _lookups(c, p);
        p = _ops(c, p);
        n = _rd(p, 2);
        p += 2;
        c.roots = _u16s(p, n, 2);
        for (uint256 i = 0; i < n; ++i) {
            if (c.roots[i] >= c.ops.length) revert BadDescription(p + 2 * i - ptr);
        }
        p += 2 * n;
        if (p != end) revert BadDescription(p - ptr);
    }

    function _tensors(TCircuit memory c, uint256 p) private pure returns (uint256) {
        uint256 n = _rd(p, 2);
        p += 2;
        uint256[] memory kinds = new uint256[](n);
        uint256[] memory nvs = new uint256[](n);
        uint256[] memory producers = new uint256[](n);
        c.kind = kinds;
        c.numVars = nvs;
        c.producer = producers;
        c.commitment = new uint256[](n);
        uint256 maxNv;
        uint256 nModel;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let w := shr(224, mload(add(p, shl(2, i))))
                let kind := shr(24, w)
                let nv := and(shr(16, w), 0xff)
                let at := shl(5, add(i, 1))
                mstore(add(kinds, at), kind)
                mstore(add(nvs, at), nv)
                mstore(add(producers, at), and(w, 0xffff))
                if and(iszero(eq(kind, KIND_VIRTUAL)), gt(nv, maxNv)) { maxNv := nv }
                nModel := add(nModel, eq(kind, KIND_MODEL))
            }
        }
        c.maxNumVars = maxNv;
        c.nModel = nModel;
        return p + 4 * n;
    }

    function _lookups(TCircuit memory c, uint256 p) private pure returns (uint256) {
        uint256 n = _rd(p, 1);
        p += 1;
        c.lookups = new TLookup[](n);
        for (uint256 l = 0; l < n; ++l) {
            TLookup memory lk = c.lookups[l];
            lk.index = l;
            lk.tableKind = _rd(p, 1);
            lk.bits = _rd(p + 1, 1);
            lk.tableOut = _rd(p + 2, 2);
            lk.mult = _rd(p + 4, 2);
            lk.bId = _rd(p + 6, 2);
            uint256 cols = _rd(p + 8, 2);
            p += 10;
            lk.colIn = _u16s(p, cols, 6);
            lk.colOut = _u16s(p + 2, cols, 6);
            lk.aIds = _u16s(p + 4, cols, 6);
            p += 6 * cols;
            if (lk.tableKind == 1) {
                if (lk.bits < 2 || lk.bits > MAX_TABLE_BITS) revert UnsafeParameter("table-bits");
            } else {
                _digitBits(lk.bits);
            }
        }
        return p;
    }

    function _digitBits(uint256 b) private pure {
        if (b == 0 || b > MAX_DIGIT_BITS) revert UnsafeParameter("digit-bits");
    }

    /// @notice `prover.quant.check_decomposition`: `bits` is `n` whole digits of `b` bits,
    ///         at most MAX_WIDTH bits in all.
    function _decomposition(uint256 bits, uint256 b, uint256 n, bytes32 condition) private pure {
        _digitBits(b);
        if (bits < b || bits > MAX_WIDTH || bits % b != 0 || n * b != bits) revert UnsafeParameter(condition);
    }

    /// @notice The side conditions of the ops whose soundness rests on a digit decomposition
    ///         (Python checks the same in each op's `__post_init__`).
    function _checkOp(TOp memory op) private pure {
        uint256 k = op.kind;
        uint256[] memory q = op.p;
        if (k == OP_RESCALE) {
            // ints: shift, digit bits[, bound bits, bound digits]; tids: z, q, digits[, bound digits]
            if (q.length != 2 && q.length != 4) revert BadDescription(0);
            uint256 nb = q.length == 4 ? q[3] : 0;
            if (op.t.length < 2 + nb) revert BadDescription(0);
            _decomposition(q[0], q[1], op.t.length - 2 - nb, "rescale-shift");
            if (q.length == 4) _decomposition(q[2], q[1], nb, "bound-width");
        } else if (k == OP_RANGE_BOUND) {
            // ints: bits, digit bits; tids: q, digits
            if (q.length != 2 || op.t.length < 1) revert BadDescription(0);
            _decomposition(q[0], q[1], op.t.length - 1, "bound-width");
        } else if (k == OP_ARGMAX) {
            // ints: vocab, digit bits, rows; tids: logits, k, digits
            if (q.length != 3 || op.t.length < 3) revert BadDescription(0);
            _decomposition(q[1] * (op.t.length - 2), q[1], op.t.length - 2, "argmax-width");
        } else if (k == OP_SOFTMAX) {
            // ints: T, K, p_out, range bits, digit bits, ...
            if (q.length < 5) revert BadDescription(0);
            _digitBits(q[3]);
            if (q[1] == 0) revert UnsafeParameter("exp-width");
            _decomposition(q[1] * q[4], q[4], q[1], "exp-width");
        } else if (k == OP_NORM) {
            if (q.length < 4) revert BadDescription(0);
            _digitBits(q[3]);
        } else if (k == OP_WEIGHT_BOUND) {
            // ints: bits, digit bits; tids: w, digits (the top digit has the bits left over)
            if (q.length != 2 || op.t.length < 2) revert BadDescription(0);
            _digitBits(q[1]);
            uint256 n = op.t.length - 1;
            if (q[0] == 0 || q[0] > MAX_WEIGHT_WIDTH || (n - 1) * q[1] >= q[0] || n * q[1] < q[0]) {
                revert UnsafeParameter("weight-width");
            }
        }
    }

    function _ops(TCircuit memory c, uint256 p) private pure returns (uint256) {
        uint256 n = _rd(p, 2);
        p += 2;
        c.ops = new TOp[](n);
        for (uint256 i = 0; i < n; ++i) {
            TOp memory op = c.ops[i];
            uint256 h = _rd(p, 4);
            op.kind = h >> 24;
            uint256 nt = (h >> 16) & 0xff;
            uint256 np = (h >> 8) & 0xff;
            uint256 ll = h & 0xff;
            p += 4;
            op.labelLen = ll;
            bytes32 label;
            assembly ("memory-safe") {
                label := and(mload(p), not(shr(shl(3, ll), not(0))))
            }
            op.label = label;
            p += ll;
            op.t = _u16s(p, nt, 2);
            p += 2 * nt;
            uint256[] memory ints = new uint256[](np);
            op.p = ints;
            assembly ("memory-safe") {
                // per int: byte length u8, then the big-endian bytes
                for { let j := 0 } lt(j, np) { j := add(j, 1) } {
                    let bl := shr(248, mload(p))
                    mstore(add(ints, shl(5, add(j, 1))), shr(sub(256, shl(3, bl)), mload(add(p, 1))))
                    p := add(p, add(1, bl))
                }
            }
            _checkOp(op);
        }
        return p;
    }
}
