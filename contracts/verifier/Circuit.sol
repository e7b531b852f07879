// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Arch, ModelCommitment} from "./ModelCommitment.sol";
import {FrMath} from "./FrMath.sol";

/// @dev TensorSpec.kind values (`prover/context.py`).
uint256 constant KIND_INPUT = 1;
uint256 constant KIND_OUTPUT = 2;
uint256 constant KIND_MODEL = 3;
uint256 constant KIND_ADVICE = 4;
uint256 constant KIND_TABLE = 5;
uint256 constant KIND_PROOF = 6;
uint256 constant KIND_VIRTUAL = 7;

/// @notice `prover/ops/linear.py` Linear: z = x W^T + b (tensor ids).
struct LinearOp {
    uint256 layer;
    uint256 x;
    uint256 w;
    uint256 b;
    uint256 z;
    uint256 rows;
    uint256 dIn;
    uint256 dOut;
}

/// @notice `prover/ops/rescale.py` Rescale: z + 2^(S-1) = q 2^S + sum_k 2^(b k) d_k.
struct RescaleOp {
    uint256 z;
    uint256 q;
    uint256[] digitIds;
    uint256 shift;
    uint256 digitBits;
}

/// @notice `prover/lookup/logup.py` LookupInstance, with its per-run state.
struct LookupInstance {
    uint256 index; // the label is "lk" + index
    bool pair; // function table (in, out) or range table (key,)
    uint256 act; // activation id of a function table; 0 for the range table
    uint256 bits; // table.bits
    uint256 nCols;
    uint256[] colIn; // columns[c][0]
    uint256[] colOut; // columns[c][1] (function tables)
    uint256 tableOutId; // the committed T_out column (function tables)
    uint256 multId;
    uint256[] aIds;
    uint256 bId;
    uint256 beta;
    uint256 gamma;
}

/// @notice `prover/circuit.py` Circuit for one row count. Tensors are numbered in the
///         insertion order of Python's `specs`; per tensor: kind, num_vars, producer (the
///         LinearOp index of a virtual tensor) and commitment (memory pointer to a G1
///         encoding, 0 while unknown).
struct Circuit {
    uint256 rows;
    uint256 dIn;
    uint256 dOut; // width of the output tensor
    uint256 outputId;
    uint256 numVars; // max num_vars over non-virtual tensors
    bytes32 digest;
    uint256[] kind;
    uint256[] numVarsOf;
    uint256[] producer;
    uint256[] commitment;
    uint256[] witness; // advice tensors committed in phase 1, in order
    uint256[] modelTensors; // Circuit.model_tensors(): w, b of each linear layer
    LinearOp[] linears; // also `roots` order: roots[i] rescales linears[i]
    RescaleOp[] roots;
    LookupInstance[] lookups;
    uint256 maxClaims;
}

/// @title MlpCircuit
/// @notice `compile_mlp` and `Circuit.digest` for the MLP family.
library MlpCircuit {
    uint256 internal constant X = 0; // tensor id of the input "x"

    /// @dev Internal invariant: the tensors added match the count allocated.
    error TensorCount();

    struct Builder {
        uint256 t; // next tensor id
        uint256 cur; // current activation tensor
        uint256 width;
        uint256 lin;
        uint256 wi; // next witness slot
        uint256 rangeCol; // next column of the range lookup
        uint256 lr; // log2_ceil(rows)
        uint256[4] lkOfAct; // activation id -> lookup index + 1
        uint256[4] colOfAct; // columns assigned so far per activation
    }

    /// @notice `Circuit.digest()`: keccak256("zkllm-circuit/v1" || encode_arch || rows u32).
    function digest(Arch memory a, uint256 rows) internal pure returns (bytes32 d) {
        uint256 off = a.archOffset;
        uint256 len = a.archLen;
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, "zkllm-circuit/v1")
            calldatacopy(add(buf, 16), off, len)
            mstore(add(buf, add(16, len)), shl(224, rows))
            d := keccak256(buf, add(20, len))
        }
    }

    function compileMlp(Arch memory a, uint256 rows) internal pure returns (Circuit memory c) {
        Builder memory bd;
        c.rows = rows;
        c.dIn = a.dIn;
        uint256 nLin = (a.nLayers + 1) / 2;
        uint256 nAct = a.nLayers / 2;
        // digits per layer and the lookup instances: distinct activations, then range
        uint256 totalDigits;
        for (uint256 i = 0; i < a.nLayers; i += 2) {
            totalDigits += ModelCommitment.linearShift(a, i + 1 < a.nLayers) / a.digitBits;
        }
        uint256 nLookups = 1;
        uint256[4] memory cols;
        for (uint256 i = 1; i < a.nLayers; i += 2) {
            uint256 act = a.layerArg[i];
            if (bd.lkOfAct[act] == 0) bd.lkOfAct[act] = nLookups++;
            ++cols[act];
        }
        c.lookups = new LookupInstance[](nLookups);
        for (uint256 act = 1; act <= 3; ++act) {
            if (bd.lkOfAct[act] != 0) {
                LookupInstance memory lk = c.lookups[bd.lkOfAct[act] - 1];
                lk.index = bd.lkOfAct[act] - 1;
                lk.pair = true;
                lk.act = act;
                lk.bits = a.lookupInBits;
                lk.nCols = cols[act];
                lk.colIn = new uint256[](cols[act]);
                lk.colOut = new uint256[](cols[act]);
            }
        }
        {
            LookupInstance memory rl = c.lookups[nLookups - 1];
            rl.index = nLookups - 1;
            rl.bits = a.digitBits;
            rl.nCols = totalDigits;
            rl.colIn = new uint256[](totalDigits);
        }
        uint256 nTensors = 1 + 4 * nLin + totalDigits + nAct + (nLookups - 1) + 2 * nLookups + nAct + totalDigits;
        c.kind = new uint256[](nTensors);
        c.numVarsOf = new uint256[](nTensors);
        c.producer = new uint256[](nTensors);
        c.commitment = new uint256[](nTensors);
        c.witness = new uint256[](nLin - 1 + totalDigits + nAct);
        c.modelTensors = new uint256[](2 * nLin);
        c.linears = new LinearOp[](nLin);
        c.roots = new RescaleOp[](nLin);

        bd.lr = FrMath.log2Ceil(rows);
        _add(c, bd, KIND_INPUT, bd.lr + FrMath.log2Ceil(a.dIn));
        bd.cur = X;
        bd.width = a.dIn;
        for (uint256 i = 0; i < a.nLayers; ++i) {
            if (i % 2 == 0) _linear(c, bd, a, i);
            else _activation(c, bd, a.layerArg[i]);
        }
        c.dOut = bd.width;
        _lookupTensors(c, bd);
        if (bd.t != nTensors) revert TensorCount();
        c.digest = digest(a, rows);
    }

    /// @dev Adds a tensor; `numVars` tracks the maximum over non-virtual tensors.
    function _add(Circuit memory c, Builder memory bd, uint256 kind, uint256 numVars) private pure returns (uint256 id) {
        id = bd.t++;
        uint256[] memory kinds = c.kind;
        uint256[] memory nv = c.numVarsOf;
        if (id >= kinds.length) revert TensorCount();
        assembly ("memory-safe") {
            let at := shl(5, add(id, 1))
            mstore(add(kinds, at), kind)
            mstore(add(nv, at), numVars)
        }
        if (kind != KIND_VIRTUAL && numVars > c.numVars) c.numVars = numVars;
    }

    function _linear(Circuit memory c, Builder memory bd, Arch memory a, uint256 i) private pure {
        uint256 dOut = a.layerArg[i];
        bool last = i == a.nLayers - 1;
        uint256 lo = FrMath.log2Ceil(dOut);
        LinearOp memory op = c.linears[bd.lin];
        op.layer = i;
        op.x = bd.cur;
        op.w = _add(c, bd, KIND_MODEL, lo + FrMath.log2Ceil(bd.width));
        op.b = _add(c, bd, KIND_MODEL, lo);
        op.z = _add(c, bd, KIND_VIRTUAL, bd.lr + lo);
        op.rows = c.rows;
        op.dIn = bd.width;
        op.dOut = dOut;
        c.producer[op.z] = bd.lin;
        c.modelTensors[2 * bd.lin] = op.w;
        c.modelTensors[2 * bd.lin + 1] = op.b;
        RescaleOp memory rs = c.roots[bd.lin];
        rs.z = op.z;
        rs.q = _add(c, bd, last ? KIND_OUTPUT : KIND_ADVICE, bd.lr + lo);
        rs.shift = ModelCommitment.linearShift(a, !last);
        rs.digitBits = a.digitBits;
        if (!last) c.witness[bd.wi++] = rs.q;
        uint256 k = _digits(c, bd, rs, bd.lr + lo);
        if (last) c.outputId = rs.q;
        // claims: bias, x, w; the rescaled q and its digits
        c.maxClaims += 3 + 1 + k;
        bd.cur = rs.q;
        bd.width = dOut;
        ++bd.lin;
    }

    /// @dev The shift / digit_bits digit tensors of a rescale: witnesses and range-lookup columns.
    function _digits(Circuit memory c, Builder memory bd, RescaleOp memory rs, uint256 numVars)
        private
        pure
        returns (uint256 k)
    {
        k = rs.shift / rs.digitBits;
        rs.digitIds = new uint256[](k);
        LookupInstance memory rl = c.lookups[c.lookups.length - 1];
        for (uint256 j = 0; j < k; ++j) {
            uint256 d = _add(c, bd, KIND_ADVICE, numVars);
            rs.digitIds[j] = d;
            c.witness[bd.wi++] = d;
            rl.colIn[bd.rangeCol++] = d;
        }
    }

    function _activation(Circuit memory c, Builder memory bd, uint256 act) private pure {
        uint256 y = _add(c, bd, KIND_ADVICE, c.numVarsOf[bd.cur]);
        c.witness[bd.wi++] = y;
        LookupInstance memory lk = c.lookups[bd.lkOfAct[act] - 1];
        uint256 col = bd.colOfAct[act]++;
        lk.colIn[col] = bd.cur;
        lk.colOut[col] = y;
        bd.cur = y;
    }

    /// @notice The table columns (one per function table), then per lookup: m, A_c, B.
    function _lookupTensors(Circuit memory c, Builder memory bd) private pure {
        uint256 n = c.lookups.length;
        for (uint256 l = 0; l + 1 < n; ++l) {
            LookupInstance memory lk = c.lookups[l];
            lk.tableOutId = _add(c, bd, KIND_TABLE, lk.bits);
        }
        for (uint256 l = 0; l < n; ++l) {
            LookupInstance memory lk = c.lookups[l];
            lk.multId = _add(c, bd, KIND_ADVICE, lk.bits);
            lk.aIds = new uint256[](lk.nCols);
            for (uint256 j = 0; j < lk.nCols; ++j) {
                lk.aIds[j] = _add(c, bd, KIND_PROOF, c.numVarsOf[lk.colIn[j]]);
            }
            lk.bId = _add(c, bd, KIND_PROOF, lk.bits);
            uint256 per = lk.pair ? 3 : 2;
            c.maxClaims += per * (lk.nCols + 1);
        }
    }
}
