"""Bit and memory intrinsics for the kernels: count trailing zeros, popcount, software prefetch.

numba exposes none of these directly; each is a one-instruction LLVM intrinsic
(``tzcnt``, ``popcnt``, ``prefetcht0`` on x86-64), so they cost nothing and keep
``cache=True`` working.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_I1 = ir.IntType(1)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


@intrinsic
def cttz(typingctx, x):
    """Index of the lowest set bit of a non-zero uint64."""
    if x != types.uint64:
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I64, [_I64, _I1]), "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(_I1, 1)])

    return sig, codegen


@intrinsic
def popcount(typingctx, x):
    """Number of set bits of a uint64."""
    if x != types.uint64:
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I64, [_I64]), "llvm.ctpop.i64")
        return builder.call(fn, [args[0]])

    return sig, codegen


@intrinsic
def prefetch(typingctx, arr, index):
    """Hint that ``arr[index]`` will be read soon (no effect on results; never faults)."""
    if not isinstance(arr, types.Array) or arr.ndim != 1 or not isinstance(index, types.Integer):
        return None
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], idxty, types.intp)
        ptr = builder.gep(ary.data, [idx])
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        fnty = ir.FunctionType(ir.VoidType(), [i8p.type, _I32, _I32, _I32])
        name = "llvm.prefetch.p0" if not hasattr(i8p.type, "pointee") else "llvm.prefetch.p0i8"
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        builder.call(fn, [i8p, ir.Constant(_I32, 0), ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
        return context.get_dummy_value()

    return sig, codegen


_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_WIDTH = 32  # arcs per block: four AVX-512 registers of 64-bit lanes


def _block_coins(builder, key, blk):
    """IR: ``float(mix64(key + (blk + 1 + j) * GOLDEN) >> 11)`` for j = 0..31, as a <32 x double>."""
    vi = ir.VectorType(_I64, _WIDTH)

    def splat(value):
        if isinstance(value, int):
            return ir.Constant(vi, [ir.Constant(_I64, value)] * _WIDTH)
        undef = ir.Constant(vi, ir.Undefined)
        one = builder.insert_element(undef, value, ir.Constant(_I32, 0))
        return builder.shuffle_vector(one, undef, ir.Constant(ir.VectorType(_I32, _WIDTH), [0] * _WIDTH))

    steps = ir.Constant(vi, [ir.Constant(_I64, j + 1) for j in range(_WIDTH)])
    e1 = builder.add(splat(blk), steps)
    z = builder.add(splat(key), builder.mul(e1, splat(_GOLDEN)))
    z = builder.mul(builder.xor(z, builder.lshr(z, splat(30))), splat(_M1))
    z = builder.mul(builder.xor(z, builder.lshr(z, splat(27))), splat(_M2))
    z = builder.xor(z, builder.lshr(z, splat(31)))
    return builder.sitofp(builder.lshr(z, splat(11)), ir.VectorType(ir.DoubleType(), _WIDTH))


def _splat_double(builder, value):
    vd = ir.VectorType(ir.DoubleType(), _WIDTH)
    undef = ir.Constant(vd, ir.Undefined)
    one = builder.insert_element(undef, value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(one, undef, ir.Constant(ir.VectorType(_I32, _WIDTH), [0] * _WIDTH))


def _mask(builder, cmp):
    return builder.zext(builder.bitcast(cmp, ir.IntType(_WIDTH)), _I64)


@intrinsic
def live_block_scaled(typingctx, key, blk, p_scaled):
    """Bit j set iff arc ``blk + j`` (j < 32) is live with probability ``p_scaled * 2**-53`` on every arc.

    The same comparison as the scalar code, ``float(z >> 11) < p * 2**53``, written as one LLVM vector
    expression so that it compiles to a few AVX-512 instructions and a mask move.
    """
    if key != types.uint64 or blk != types.int64 or p_scaled != types.float64:
        return None
    sig = types.uint64(types.uint64, types.int64, types.float64)

    def codegen(context, builder, signature, args):
        x = _block_coins(builder, args[0], args[1])
        return _mask(builder, builder.fcmp_ordered("<", x, _splat_double(builder, args[2])))

    return sig, codegen


@intrinsic
def live_block(typingctx, key, blk, prob):
    """Bit j set iff arc ``blk + j`` (j < 32) is live: ``float(z >> 11) * 2**-53 < prob[blk + j]``.

    The caller guarantees ``blk + 32 <= len(prob)``.
    """
    if key != types.uint64 or blk != types.int64 or not isinstance(prob, types.Array) or prob.dtype != types.float64:
        return None
    sig = types.uint64(types.uint64, types.int64, prob)

    def codegen(context, builder, signature, args):
        x = _block_coins(builder, args[0], args[1])
        x = builder.fmul(x, _splat_double(builder, ir.Constant(ir.DoubleType(), 2.0**-53)))
        ary = context.make_array(signature.args[2])(context, builder, args[2])
        ptr = builder.gep(ary.data, [args[1]])
        vd = ir.VectorType(ir.DoubleType(), _WIDTH)
        pv = builder.load(builder.bitcast(ptr, vd.as_pointer()), align=8)
        return _mask(builder, builder.fcmp_ordered("<", x, pv))

    return sig, codegen


_LANES = 64


@intrinsic
def live_lanes(typingctx, keys64, c, threshold):
    """Bit l set iff ``float(mix64(keys64[l] + c) >> 11) < threshold``, for the 64 lanes of a bit-parallel word.

    ``c`` is ``(arc + 1) * GOLDEN`` and ``threshold`` is ``p * 2**53`` (exact), so bit l is the coin of that
    arc in lane l's run. ``keys64`` must hold 64 contiguous uint64 keys.
    """
    if not isinstance(keys64, types.Array) or keys64.dtype != types.uint64 or c != types.uint64 \
            or threshold != types.float64:
        return None
    sig = types.uint64(keys64, types.uint64, types.float64)

    def codegen(context, builder, signature, args):
        vi = ir.VectorType(_I64, _LANES)
        vd = ir.VectorType(ir.DoubleType(), _LANES)
        shuf = ir.Constant(ir.VectorType(_I32, _LANES), [0] * _LANES)

        def splat(value, vt):
            undef = ir.Constant(vt, ir.Undefined)
            return builder.shuffle_vector(builder.insert_element(undef, value, ir.Constant(_I32, 0)), undef, shuf)

        def const(v):
            return ir.Constant(vi, [ir.Constant(_I64, v)] * _LANES)

        ary = context.make_array(signature.args[0])(context, builder, args[0])
        k = builder.load(builder.bitcast(ary.data, vi.as_pointer()), align=8)
        z = builder.add(k, splat(args[1], vi))
        z = builder.mul(builder.xor(z, builder.lshr(z, const(30))), const(_M1))
        z = builder.mul(builder.xor(z, builder.lshr(z, const(27))), const(_M2))
        z = builder.xor(z, builder.lshr(z, const(31)))
        x = builder.sitofp(builder.lshr(z, const(11)), vd)
        cmp = builder.fcmp_ordered("<", x, splat(args[2], vd))
        return builder.bitcast(cmp, _I64)

    return sig, codegen
