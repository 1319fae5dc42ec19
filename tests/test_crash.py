"""No input crashes the interpreter.

numba kernels do not check bounds: an index that slipped past validation would
read or write out of bounds, which can kill the process (a segfault shows as a
negative return code) rather than raise. These tests feed the nastiest cases we
can generate, deterministically, to the public API in a child Python process
and check that it exits normally, having either computed a correct result or
raised a clean ``TypeError``/``ValueError``/``MemoryError`` for every case.
"""

import os
import subprocess
import sys
import textwrap

CHILD_PRELUDE = textwrap.dedent('''
    import gzip, os, sys, tempfile, traceback, warnings
    import numpy as np
    import microviral as mv

    warnings.simplefilter("ignore")
    CLEAN = (TypeError, ValueError, MemoryError)
    counts = {"worked": 0, "refused": 0}
    failures = []

    def case(label, fn, check=None):
        try:
            out = fn()
        except CLEAN:
            counts["refused"] += 1
            return None
        except Exception as exc:  # anything else is a bug, but must not kill the process either
            failures.append(f"{label}: {type(exc).__name__}: {exc}")
            return None
        if check is not None:
            try:
                check(out)
            except Exception as exc:
                failures.append(f"{label}: wrong result: {type(exc).__name__}: {exc}")
                return None
        counts["worked"] += 1
        return out

    def reach_ok(n, n_seeds):
        def check(res):
            assert np.all(res.reach >= n_seeds) and np.all(res.reach <= n)
            assert np.array_equal(res.new_by_round.sum(axis=1), res.reach)
        return check

    def finish():
        print("worked", counts["worked"], "refused", counts["refused"], flush=True)
        for f in failures:
            print("FAIL", f, flush=True)
        sys.exit(1 if failures else 0)
''')

ENGINE_CASES = textwrap.dedent('''
    rng = np.random.default_rng(20261129)
    BIG = [2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**62, 2**63 - 1, 2**64 - 1, -1, -(2**31), -(2**63)]

    # corrupted CSR arrays: every invariant broken by one step, in every integer width
    for trial in range(200):
        n = int(rng.integers(1, 9))
        deg = rng.integers(0, 4, size=n)
        indptr = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
        m = int(indptr[-1])
        indices = rng.integers(0, n, size=m).astype(np.int64)
        what = trial % 8
        if what == 1 and m:
            indices[rng.integers(m)] = BIG[trial % len(BIG)] % (2**63) if trial % 3 else -1
        elif what == 2 and n > 1:
            indptr[1] = indptr[-1] + 1
        elif what == 3:
            indptr[-1] += 1 + trial % 3
        elif what == 4 and m:
            indices[rng.integers(m)] = n
        elif what == 5:
            indptr = indptr - 1
        elif what == 6:
            indptr = indptr.astype(np.uint64) if indptr.min() >= 0 else indptr
            indices = indices.astype(np.uint64) + np.uint64(2**63)
        elif what == 7:
            indptr = indptr.astype(np.float64); indptr[-1] = np.nan
        dtype = [np.int8, np.int16, np.int32, np.int64, np.uint32, np.float32][trial % 6]
        with np.errstate(all="ignore"):
            t_cast = indices.astype(dtype) if what != 6 else indices
        prob = rng.choice([0.0, 0.5, 1.0, np.nan, -0.1, 1.1, np.inf, 5e-324, 1 - 1e-16], size=m)
        if trial % 4:
            prob = np.clip(np.nan_to_num(prob, nan=0.5, posinf=1.0), 0, 1)
        g = case(f"csr {trial}", lambda: mv.CommunityGraph(indptr, t_cast, prob=prob, directed=bool(trial % 5)))
        if g is not None:
            for seeds in ([0], [n - 1], list(range(n)), [n], [-1], [2**32], [0, 0], np.array([2**63], dtype=np.uint64)):
                case(f"simulate {trial} {seeds}", lambda: mv.simulate(g, seeds, n_runs=17, rng=trial),
                     reach_ok(n, len(seeds)))

    # valid but extreme graphs straight into the kernel
    n = 200_000
    star = mv.CommunityGraph.from_edges(np.zeros(n - 1, dtype=int), np.arange(1, n), prob=1.0,
                                        community=np.arange(n) % 3)
    case("star", lambda: mv.simulate(star, [0], n_runs=3, rng=0, target=2), reach_ok(n, 1))
    leaves = np.arange(1, n, 7)
    case("star leaves", lambda: mv.simulate(star, leaves, n_runs=3, rng=0), reach_ok(n, leaves.size))
    path = mv.CommunityGraph.from_edges(np.arange(5000), np.arange(1, 5001), prob=1.0)  # 5000 rounds
    case("long path", lambda: mv.simulate(path, [0], n_runs=5, rng=0), reach_ok(5001, 1))
    one = mv.CommunityGraph([0, 0], [], prob=[])
    case("one node", lambda: mv.simulate(one, [0], n_runs=5, rng=0), reach_ok(1, 1))
    loop = mv.CommunityGraph([0, 1], [0], prob=[1.0])  # a raw-CSR self-loop
    case("self-loop", lambda: mv.simulate(loop, [0], n_runs=5, rng=0, max_rounds=2**63 - 1), reach_ok(1, 1))
    small = mv.CommunityGraph.from_edges([0, 1, 2], [1, 2, 0], prob=1.0, community=["a", "b", "b"])
    for keys in ([0], [2**64 - 1], np.full(5, 2**64 - 1, dtype=np.uint64), [2**64], [-1], [], np.array([[1, 2]]),
                 np.array([1.0]), np.array([True])):
        case(f"keys {keys!r}", lambda: mv.simulate(small, [0], keys=keys), reach_ok(3, 1))
    for target in ([2**32], [-1], [3], np.zeros(3, bool), np.ones(4, bool), "c", 2**70, -1, np.nan, [[0]]):
        case(f"target {target!r}", lambda: mv.simulate(small, [0], n_runs=3, target=target), reach_ok(3, 1))
    for kw in (dict(n_runs=2**31 - 1), dict(n_runs=10**12), dict(n_runs=2**31), dict(max_rounds=2**80),
               dict(max_rounds=-(2**70)), dict(chunk_size=2**70), dict(n_threads=2**70), dict(n_runs=np.uint64(5)),
               dict(rng=2**200), dict(rng=-(2**200))):
        case(f"simulate {kw}", lambda: mv.simulate(small, [0], **kw), reach_ok(3, 1))
    # a caller reusing their arrays after construction must not reach the kernel
    indptr, indices = np.array([0, 1, 2, 3]), np.array([1, 2, 0])
    g = mv.CommunityGraph(indptr, indices, prob=np.ones(3))
    indptr[:] = [0, 10**9, -(10**9), 3]; indices[:] = [10**9, -5, 2**31 - 1]
    case("arrays reused", lambda: mv.simulate(g, [0], n_runs=5, rng=0), reach_ok(3, 1))
    finish()
''')

INPUT_CASES = textwrap.dedent('''
    d = tempfile.mkdtemp()
    rng = np.random.default_rng(7)

    def write(name, data):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    blobs = {
        "binary": bytes(rng.integers(0, 256, size=4096, dtype=np.uint8)),
        "nul": b"0 1\\n1\\x00 2\\n",
        "long_line": b"0 " + b"1" * 1_000_000 + b"\\n",
        "many_fields": b" ".join(b"1" for _ in range(5_000)) + b"\\n",
        "bom_crlf": b"\\xef\\xbb\\xbf0 1\\r\\n1 2\\r\\n",
        "latin1": "0 caf\\xe9\\n".encode("latin-1"),
        "utf16": "0 1\\n1 2\\n".encode("utf-16"),
        "mixed_seps": b"0,1\\n1\\t2\\n2 ,3\\n",
        "huge_ids": f"{2**70} {-(2**70)}\\n{2**63} 1\\n".encode(),
        "nan_prob": b"0 1 nan\\n1 2 inf\\n",
        "only_comments": b"# nothing\\n\\n   \\n",
        "empty": b"",
        "cr_only": b"0 1\\r1 2\\r",
        "gz_truncated": gzip.compress(b"0 1\\n" * 1000)[:40],
        "gz_garbage": b"\\x1f\\x8b" + bytes(200),
        "gz_ok": gzip.compress(b"0 1\\n1 2\\n"),
    }
    for name, data in blobs.items():
        path = write(name + (".gz" if name.startswith("gz") else ".txt"), data)
        for kw in (dict(), dict(directed=False), dict(prob="prob"), dict(header=True), dict(delimiter=",")):
            case(f"read_edgelist {name} {kw}", lambda: mv.read_edgelist(path, **kw))
        case(f"read_communities {name}", lambda: mv.read_communities(path))
        case(f"read_edgelist {name} community", lambda: mv.read_edgelist(write("e.txt", b"0 1\\n"), community=path))

    g = mv.CommunityGraph.from_edges([0, 1, 2, 3, 4], [1, 2, 3, 4, 0], prob=0.5, community=list("aabbb"))
    for name in sorted(mv.seeding.STRATEGIES):
        fn = mv.seeding.STRATEGIES[name]
        for k in (1, 5, 0, 6, -1, 2**70, 2.0, True, None, "1"):
            for target in (None, "b", "z", [2**40], np.zeros(5, bool)):
                case(f"{name} k={k!r} target={target!r}", lambda: fn(g, k, target=target, rng=0))
    for strategies in ("degree", ["random", "degree"], {"a": "degree"}, ["nope"], [], 5, None, ["degree", "degree"]):
        for k in (1, [1, 2], [], [0], [6], 2**70):
            case(f"compare {strategies!r} {k!r}", lambda: mv.compare(g, strategies, k, target="b", n_runs=20, rng=0))
    finish()
''')


SPARSE_CASES = textwrap.dedent("""
    import scipy.sparse as sp

    def refused(label, fn):
        # a malformed matrix must be refused with a message about 'matrix', never accepted nor crash
        try:
            fn()
        except CLEAN as exc:
            counts["refused"] += 1
            if "'matrix'" not in str(exc):
                failures.append(f"{label}: message does not name 'matrix': {exc}")
        except Exception as exc:
            failures.append(f"{label}: {type(exc).__name__}: {exc}")
        else:
            failures.append(f"{label}: a malformed matrix was accepted")

    DENSE = np.array([[0, 1, 0, 2], [0, 0, 3, 0], [4, 0, 0, 5], [0, 6, 0, 0]], dtype=float) / 8
    U64 = np.uint64(2**64 - 1)

    def make(fmt, kind):
        if fmt == "bsr":
            return getattr(sp, f"bsr_{kind}")(DENSE, blocksize=(2, 2))
        return getattr(sp, f"{fmt}_{kind}")(DENSE)

    def corrupt(A, **attrs):
        for name, value in attrs.items():
            if name in ("row", "col") and hasattr(A, "coords"):
                coords = list(A.coords)
                coords[0 if name == "row" else 1] = value
                A.coords = tuple(coords)
            else:
                setattr(A, name, value)
        return A

    def compressed(A):
        ip, ix, d, n = A.indptr.astype(np.int64), A.indices, A.data, A.indptr.size
        i = max(n - 2, 1)
        yield "issue example", dict(indptr=np.concatenate([[0, 100000], ip[2:]]))
        yield "indptr end past nnz", dict(indptr=np.concatenate([ip[:-1], [ip[-1] + 1]]))
        yield "indptr far past nnz", dict(indptr=np.concatenate([ip[:-1], [2**62]]))
        if n > 3:
            yield "indptr not monotone", dict(indptr=np.concatenate([[0], ip[1:-1][::-1], ip[-1:]]))
        yield "indptr dips", dict(indptr=np.where(np.arange(n) == i, ip[-1] + 1, ip))
        yield "indptr negative", dict(indptr=np.where(np.arange(n) == 1, -1, ip))
        yield "indptr huge negative", dict(indptr=np.where(np.arange(n) == 1, -(2**63), ip))
        yield "indptr uint64 max", dict(indptr=np.where(np.arange(n) == 1, U64, ip.astype(np.uint64)))
        yield "indptr starts at 1", dict(indptr=ip + 1)
        yield "indptr short", dict(indptr=ip[:-1])
        yield "indptr long", dict(indptr=np.concatenate([ip, ip[-1:]]))
        yield "indptr empty", dict(indptr=ip[:0])
        yield "indptr float", dict(indptr=ip.astype(float))
        yield "indptr float nan", dict(indptr=np.where(np.arange(n) == 1, np.nan, ip))
        yield "indptr bool", dict(indptr=ip.astype(bool))
        yield "indptr object", dict(indptr=ip.astype(object))
        yield "indptr 2-d", dict(indptr=ip[:, None])
        yield "indptr str", dict(indptr="0123")
        for bad in (4, 5, 2**31, 2**31 - 1, 2**63 - 1, -1, -(2**31)):
            yield f"indices {bad}", dict(indices=np.where(np.arange(ix.size) == 0, bad, ix.astype(np.int64)))
        yield "indices uint64 max", dict(indices=np.where(np.arange(ix.size) == 0, U64, ix.astype(np.uint64)))
        yield "indices int8 wrap", dict(indices=np.where(np.arange(ix.size) == 0, -128, ix).astype(np.int8))
        yield "indices float", dict(indices=ix.astype(float))
        yield "indices float16", dict(indices=ix.astype(np.float16))
        yield "indices complex", dict(indices=ix.astype(complex))
        yield "indices bool", dict(indices=ix.astype(bool))
        yield "indices object", dict(indices=ix.astype(object))
        yield "indices 2-d", dict(indices=ix[:, None])
        yield "indices short", dict(indices=ix[:-1])
        yield "indices long", dict(indices=np.concatenate([ix, ix]))
        yield "indices None", dict(indices=None)
        yield "data short", dict(data=d[:-1])
        yield "data long", dict(data=np.concatenate([d, d]))
        yield "data empty", dict(data=d[:0])
        yield "data str", dict(data=d.astype(str))
        yield "data object", dict(data=np.array([None] * len(d), dtype=object))
        yield "indptr and indices both short", dict(indptr=ip[:-1], indices=ix[:-1], data=d[:-1])

    def families(fmt, kind):
        A = make(fmt, kind)
        if fmt in ("csr", "csc", "bsr"):
            yield from compressed(A)
        if fmt == "bsr":
            d = A.data
            yield "blocks 3x3", dict(data=np.ones((d.shape[0], 3, 3)))
            yield "blocks 0x2", dict(data=np.ones((d.shape[0], 0, 2)))
            yield "blocks 2-d", dict(data=d.reshape(d.shape[0], -1))
            yield "blocks 4-d", dict(data=d[..., None])
            yield "blocks too few", dict(data=d[:-1])
        if fmt == "coo":
            r, c, d = A.row.astype(np.int64), A.col.astype(np.int64), A.data
            for name, arr in (("row", r), ("col", c)):
                for bad in (4, 2**31, 2**63 - 1, -1, -(2**63)):
                    yield f"{name} {bad}", {name: np.where(np.arange(arr.size) == 0, bad, arr)}
                yield f"{name} uint64 max", {name: np.where(np.arange(arr.size) == 0, U64, arr.astype(np.uint64))}
                yield f"{name} float", {name: arr.astype(float)}
                yield f"{name} bool", {name: arr.astype(bool)}
                yield f"{name} object", {name: arr.astype(object)}
                yield f"{name} short", {name: arr[:-1]}
                yield f"{name} long", {name: np.concatenate([arr, arr])}
                yield f"{name} 2-d", {name: arr[:, None]}
            yield "data short", dict(data=d[:-1])
            yield "data long", dict(data=np.concatenate([d, d]))
            yield "data str", dict(data=d.astype(str))
            if hasattr(A, "coords"):
                yield "coords of 3", dict(coords=(r, c, c))
                yield "coords of 1", dict(coords=(r,))
                yield "coords list", dict(coords=[r, c + 10])
        if fmt == "dia":
            d, o = A.data, A.offsets
            yield "offsets float", dict(offsets=o.astype(float))
            yield "offsets bool", dict(offsets=(o > 0))
            yield "offsets short", dict(offsets=o[:-1])
            yield "offsets long", dict(offsets=np.concatenate([o, [99]]))
            yield "offsets repeated", dict(offsets=np.full(o.size, o[0]))
            yield "offsets 2-d", dict(offsets=o[:, None])
            yield "data 1-d", dict(data=d.ravel())
            yield "data 3-d", dict(data=d[..., None])
            yield "data str", dict(data=d.astype(str))
        if fmt == "lil":
            rows, data = A.rows, A.data
            for bad in (4, 2**31, 2**63 - 1, 2**64, 2**70, -1, -(2**63), 1.0, 1.5, True, None, "1", np.nan):
                r = rows.copy(); r[0] = [bad] + list(r[0][1:])
                yield f"rows {bad!r}", dict(rows=r)
            r = rows.copy(); r[0] = r[0] + [3]
            yield "row longer than its data", dict(rows=r)
            dd = data.copy(); dd[1] = []
            yield "data shorter than its row", dict(data=dd)
            yield "rows short", dict(rows=rows[:-1])
            yield "data short", dict(data=data[:-1])
            r = rows.copy(); r[0] = (1, 3)
            yield "row a tuple", dict(rows=r)
            yield "rows 2-d", dict(rows=rows[:, None])
            dd = data.copy(); dd[0] = ["x"] * len(dd[0])
            yield "data str", dict(data=dd)
        if fmt == "dok":
            for key in ((4, 0), (0, 4), (-1, 0), (0, -1), (2**63, 0), (2**70, 1), (1.0, 0), (True, 0), (0,), (0, 1, 2),
                        "ab", 3, (None, 0), (np.float64(1), 0)):
                yield f"key {key!r}", dict(_key=key)
            yield "value str", dict(_key=(0, 0), _value="x")
            yield "value None", dict(_key=(0, 0), _value=None)
        # the shape disagrees with the stored arrays (a larger one is only isolated nodes in coo and dok)
        for shape in ((5, 5), (3, 3), (2, 2), (1, 1)):
            if not (fmt in ("coo", "dok") and shape == (5, 5)):
                yield f"shape {shape}", dict(_shape=shape)

    def apply(A, attrs):
        if "_key" in attrs:
            store = getattr(A, "_dict", A)
            dict.__setitem__(store, attrs["_key"], attrs.get("_value", 1.0))
            return A
        if "_shape" in attrs:
            A._shape = attrs["_shape"]
            return A
        return corrupt(A, **attrs)

    n_families = 0
    for fmt in ("csr", "csc", "bsr", "coo", "dia", "lil", "dok"):
        for kind in ("array", "matrix"):
            for label, attrs in families(fmt, kind):
                if fmt == "dia" and "_shape" in attrs:
                    continue  # dia holds whole diagonals: a smaller shape only hides entries (checked below)
                n_families += 1
                for kw in (dict(), dict(prob="weight"), dict(directed=False)):
                    A = make(fmt, kind)
                    try:
                        A = apply(A, attrs)
                    except Exception:
                        continue  # this scipy version refuses the corruption itself: nothing reaches microviral
                    refused(f"{fmt}_{kind} {label} {kw}", lambda: mv.CommunityGraph.from_scipy(A, **kw))

    # odd but well-formed: extreme index dtypes and values, entries past indptr[-1], diagonals outside the matrix
    want = mv.CommunityGraph.from_scipy(sp.csr_array(DENSE), prob="weight")

    def same(g):
        assert np.array_equal(g.indptr, want.indptr) and np.array_equal(g.indices, want.indices)
        assert np.array_equal(g.prob, want.prob)

    for dt in (np.int8, np.uint8, np.int16, np.uint32, np.int64, np.uint64):
        A = sp.csr_array(DENSE)
        A.indptr, A.indices = A.indptr.astype(dt), A.indices.astype(dt)
        case(f"csr index dtype {dt.__name__}", lambda: mv.CommunityGraph.from_scipy(A, prob="weight"), same)
        C = sp.coo_array(DENSE)
        C.coords = tuple(x.astype(dt) for x in C.coords)
        case(f"coo index dtype {dt.__name__}", lambda: mv.CommunityGraph.from_scipy(C, prob="weight"), same)
    A = sp.csr_array(DENSE)
    A.indices, A.data = np.concatenate([A.indices, [2**31 - 1, -5]]), np.concatenate([A.data, [7.0, 9.0]])
    case("csr entries past indptr[-1]", lambda: mv.CommunityGraph.from_scipy(A, prob="weight"), same)
    D = sp.dia_array(DENSE)
    D.offsets = np.concatenate([D.offsets, [2**63 - 1, -(2**63), 4, -4]]).astype(np.int64)
    D.data = np.concatenate([D.data, np.full((4, D.data.shape[1]), 0.5)])
    case("dia diagonals outside", lambda: mv.CommunityGraph.from_scipy(D, prob="weight"), same)
    D = sp.dia_array(DENSE)
    D.data = np.concatenate([D.data, np.full((D.data.shape[0], 1000), 0.5)], axis=1)
    case("dia data wider than the matrix", lambda: mv.CommunityGraph.from_scipy(D, prob="weight"), same)
    print("families", n_families)
    finish()
""")


def run_child(body, timeout=300):
    proc = subprocess.run([sys.executable, "-c", CHILD_PRELUDE + body], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    detail = (proc.stdout[-3000:] + proc.stderr[-3000:]).strip()
    assert proc.returncode >= 0, f"the child process was killed by signal {-proc.returncode}:\n{detail}"
    assert proc.returncode == 0, f"exit status {proc.returncode}:\n{detail}"
    words = proc.stdout.split("worked", 1)[1].split()
    worked, refused = int(words[0]), int(words[2])
    return worked, refused


def test_engine_survives_corrupted_and_extreme_inputs():
    worked, refused = run_child(ENGINE_CASES)
    assert worked > 50 and refused > 200  # both outcomes are exercised


def test_readers_strategies_and_compare_survive_hostile_inputs():
    worked, refused = run_child(INPUT_CASES)
    assert worked > 20 and refused > 100


def test_malformed_sparse_matrices_are_refused_before_scipy_converts_them():
    """Every raw array of every scipy format, broken in each way scipy's light checks let through, is refused.

    scipy's own conversions trust the raw arrays: before the check, the issue's CSR (indptr ``[0, 100000, 2]``)
    aborted the interpreter with ``free(): invalid pointer``.
    """
    worked, refused = run_child(SPARSE_CASES)
    assert worked == 15 and refused > 1000


def test_the_harness_sees_a_crash():
    """A child that dies by a signal is reported as such (the test above can fail)."""
    import pytest

    with pytest.raises(AssertionError, match="killed by signal"):
        run_child("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    with pytest.raises(AssertionError, match="exit status 1"):
        run_child("case('boom', lambda: 1 / 0)\nfinish()\n")
