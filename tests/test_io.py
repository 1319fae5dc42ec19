"""Edge-list and community files: formats, ids, exact line numbers in errors, round trips, the shared data."""

import gzip
import os
import socket
import threading
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microviral as mv
from microviral import io as mio


def write(tmp_path, name, text, *, gz=False, raw=False):
    path = tmp_path / name
    data = text if raw else text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def arcs(g):
    ids = g.node_ids.tolist()
    return sorted((ids[u], ids[v]) for u, v in zip(g.arc_sources.tolist(), g.indices.tolist()))


# ---------------------------------------------------------------------------- formats
def test_whitespace_file_with_comments_and_blank_lines(tmp_path):
    p = write(tmp_path, "e.txt", "# header comment\n\n0 1\n1\t2   # inline comment\n  2 0\n\n")
    g = mv.read_edgelist(p)
    assert g.directed and g.n_nodes == 3
    assert arcs(g) == [(0, 1), (1, 2), (2, 0)]
    assert g.prob.tolist() == [0.1, 0.1, 0.1]
    assert g.community_names == ("all",)


def test_csv_header_is_detected_and_spaces_ignored(tmp_path):
    p = write(tmp_path, "e.csv", "id_1, id_2\n5 , 7\n7,9\n")
    g = mv.read_edgelist(p, directed=False)
    assert g.node_ids.tolist() == [5, 7, 9]
    assert g.n_arcs == 4
    assert arcs(g) == [(5, 7), (7, 5), (7, 9), (9, 7)]


def test_numeric_first_row_is_data(tmp_path):
    p = write(tmp_path, "e.csv", "1,2\n2,3\n")
    assert mv.read_edgelist(p).n_arcs == 2
    assert mv.read_edgelist(p, header=True).n_arcs == 1


def test_string_ids_without_header_keep_the_first_row(tmp_path):
    p = write(tmp_path, "e.txt", "ann bob\nbob cy\n")
    g = mv.read_edgelist(p)
    assert g.node_ids.tolist() == ["ann", "bob", "cy"]
    assert arcs(g) == [("ann", "bob"), ("bob", "cy")]
    assert g.index_of(["cy", "ann"]).tolist() == [2, 0]


def test_explicit_tab_delimiter_allows_spaces_in_ids(tmp_path):
    p = write(tmp_path, "e.tsv", "New York\tLos Angeles\nLos Angeles\tChicago\n")
    g = mv.read_edgelist(p, delimiter="\t")
    assert g.node_ids.tolist() == ["Chicago", "Los Angeles", "New York"]
    assert arcs(g) == [("Los Angeles", "Chicago"), ("New York", "Los Angeles")]


def test_non_contiguous_and_negative_int_ids_stay_ints(tmp_path):
    p = write(tmp_path, "e.txt", "1000000 -3\n-3 42\n")
    g = mv.read_edgelist(p)
    assert g.node_ids.dtype.kind == "i"
    assert g.node_ids.tolist() == [-3, 42, 1000000]
    assert g.index_of([1000000, 42]).tolist() == [2, 1]


def test_mixed_ids_become_strings(tmp_path):
    p = write(tmp_path, "e.txt", "1 a\na 2\n")
    g = mv.read_edgelist(p)
    assert g.node_ids.tolist() == ["1", "2", "a"]


@pytest.mark.parametrize("name, gz", [("e.txt.gz", True), ("e.txt", True)])
def test_gzip_by_suffix_and_by_magic_bytes(tmp_path, name, gz):
    p = write(tmp_path, name, "0 1\n1 2\n", gz=gz)
    assert mv.read_edgelist(p).n_arcs == 2


def test_crlf_cr_and_bom(tmp_path):
    p = write(tmp_path, "e.csv", "\ufeffsource,target\r\n0,1\r\n1,2\r\n", raw=False)
    g = mv.read_edgelist(p)
    assert arcs(g) == [(0, 1), (1, 2)]
    p2 = write(tmp_path, "mac.txt", "0 1\r1 2\r")
    assert arcs(mv.read_edgelist(p2)) == [(0, 1), (1, 2)]


def test_probability_column(tmp_path):
    p = write(tmp_path, "e.txt", "a b 0.5\nb c 1\nc a 0\n")
    g = mv.read_edgelist(p, prob="prob")
    got = dict(zip(arcs(g), g.prob[np.lexsort((g.indices, g.arc_sources))].tolist()))
    assert got == {("a", "b"): 0.5, ("b", "c"): 1.0, ("c", "a"): 0.0}
    assert mv.read_edgelist(write(tmp_path, "f.txt", "0 1\n"), prob=0.3).prob.tolist() == [0.3]


def test_header_with_probability_column(tmp_path):
    p = write(tmp_path, "e.csv", "src,dst,p\n0,1,0.25\n")
    assert mv.read_edgelist(p, prob="p").prob.tolist() == [0.25]
    # the name must be the header's: another name is refused, naming the header's
    with pytest.raises(ValueError, match=r"e\.csv: 'prob' names the probability column 'weight', .*'p'"):
        mv.read_edgelist(p, prob="weight")
    with pytest.raises(ValueError, match=r"s\.csv: .*'p'"):   # the exact tokenizer too
        mv.read_edgelist(write(tmp_path, "s.csv", "src,dst,p\na,b,0.25\n"), prob="weight", header=True)


def test_label_file_adds_isolated_nodes_and_keeps_label_types(tmp_path):
    e = write(tmp_path, "e.txt", "0 1\n1 2\n")
    c = write(tmp_path, "c.csv", "node,dept\n0,5\n1,5\n2,7\n9,7\n")
    g = mv.read_edgelist(e, community=c)
    assert g.node_ids.tolist() == [0, 1, 2, 9]
    assert g.community_names == (5, 7)
    assert g.community.tolist() == [0, 0, 1, 1]
    assert g.out_degree[g.index_of(9)] == 0 and g.in_degree[g.index_of(9)] == 0


def test_label_file_with_string_labels_and_gzip(tmp_path):
    e = write(tmp_path, "e.txt", "a b\n")
    c = write(tmp_path, "c.txt.gz", "b left\na right\n", gz=True)
    g = mv.read_edgelist(e, community=c)
    assert [g.community_names[x] for x in g.community] == ["right", "left"]


def test_community_as_array_and_dict(tmp_path):
    e = write(tmp_path, "e.txt", "30 10\n10 20\n")
    g = mv.read_edgelist(e, community=["x", "y", "y"])       # in sorted-id order 10, 20, 30
    assert g.community.tolist() == [0, 1, 1]
    g2 = mv.read_edgelist(e, community={10: "x", 20: "y", 30: "y"})
    assert g2.community.tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="one label per node"):
        mv.read_edgelist(e, community=["x", "y"])


def test_read_communities(tmp_path):
    c = write(tmp_path, "c.txt", "# node label\nb 1\na 2\n")
    assert mv.read_communities(c) == {"b": 1, "a": 2}


# ---------------------------------------------------------------------------- errors with exact line numbers
@pytest.mark.parametrize(
    "text, line, what",
    [
        ("0 1\n1 2 3\n", 2, "expected 2 columns"),
        ("0 1 2\n1 2\n", 1, "expected 2 columns"),
        ("# c\n\n0 1\n\n# c\n5\n0 1\n", 6, "expected 2 columns"),
        ("0,1\n1,2\n,3\n", 3, "empty one"),
        ("0,1\r\n1,2,\r\n", 2, "expected 2 columns"),
        ("0 1\n" * 500 + "1 2 3\n" + "0 1\n" * 10, 501, "prob='<column name>'"),
    ],
)
def test_wrong_column_count_names_file_and_line(tmp_path, text, line, what):
    p = write(tmp_path, "bad.txt", text)
    with pytest.raises(ValueError, match=rf"bad\.txt, line {line}: .*{what}"):
        mv.read_edgelist(p)


@pytest.mark.parametrize(
    "text, line, what",
    [
        ("0 1 0.5\n# x\n1 2 high\n", 3, "'high' is not a number"),
        ("0 1 0.5\n\n\n1 2 1.5\n", 4, r"'1\.5' is outside \[0, 1\]"),
        ("0 1 -0.1\n", 1, "outside"),
        ("0 1 0.2\n1 2 nan\n", 2, "outside"),
        ("src dst prob\n0 1 0.2\n1 2 2\n", 3, "outside"),
        ("0 1 0.2\n1 2\n", 2, "expected 3 columns"),
    ],
)
def test_bad_probability_names_line(tmp_path, text, line, what):
    p = write(tmp_path, "p.txt", text)
    with pytest.raises(ValueError, match=rf"p\.txt, line {line}: .*{what}"):
        mv.read_edgelist(p, prob="prob")


@pytest.mark.parametrize("gz", [False, True])
def test_undecodable_bytes_name_line(tmp_path, gz):
    data = b"0 1\n1 2\n2 \xff\xfe\n"
    p = tmp_path / ("u.txt.gz" if gz else "u.txt")
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match=r"u\.txt(\.gz)?, line 3: undecodable"):
        mv.read_edgelist(p)


def test_broken_gzip(tmp_path):
    p = tmp_path / "b.gz"
    p.write_bytes(gzip.compress(b"0 1\n" * 100)[:-20])
    with pytest.raises(ValueError, match=r"b\.gz: cannot decompress"):
        mv.read_edgelist(p)


def test_label_file_errors(tmp_path):
    e = write(tmp_path, "e.txt", "0 1\n1 2\n")
    with pytest.raises(ValueError, match=r"c\.txt, line 3: node 0 is given a label a second time"):
        mv.read_edgelist(e, community=write(tmp_path, "c.txt", "0 a\n1 a\n0 b\n2 b\n"))
    with pytest.raises(ValueError, match=r"m\.txt: no community label for 1 node\(s\) of .*e\.txt, e\.g\. \[2\]"):
        mv.read_edgelist(e, community=write(tmp_path, "m.txt", "0 a\n1 a\n"))
    with pytest.raises(ValueError, match=r"w\.txt, line 2: expected 2 columns"):
        mv.read_edgelist(e, community=write(tmp_path, "w.txt", "0 a\n1 a x\n2 b\n"))
    with pytest.raises(ValueError, match=r"z\.txt: no community labels"):
        mv.read_communities(write(tmp_path, "z.txt", "# nothing\n"))


def test_empty_edge_file(tmp_path):
    with pytest.raises(ValueError, match=r"empty\.txt: no edges"):
        mv.read_edgelist(write(tmp_path, "empty.txt", "# only a comment\n\n"))


def test_only_isolated_nodes_from_labels(tmp_path):
    g = mv.read_edgelist(write(tmp_path, "e.txt", "# none\n"), community=write(tmp_path, "c.txt", "1 a\n2 b\n"))
    assert g.n_nodes == 2 and g.n_arcs == 0


def test_bad_arguments(tmp_path):
    p = write(tmp_path, "e.txt", "0 1\n")
    with pytest.raises(TypeError, match="'path' must be a path"):
        mv.read_edgelist(123)
    with pytest.raises(TypeError, match="'directed' must be a bool"):
        mv.read_edgelist(p, directed="yes")
    with pytest.raises(ValueError, match="'prob' as a column name must not be empty"):
        mv.read_edgelist(p, prob="")
    with pytest.raises(ValueError, match=r"line 1: expected 3 columns \(source target probability\)"):
        mv.read_edgelist(p, prob="weights")   # a column name, but the file has no third column
    with pytest.raises(ValueError, match="'prob' must be a finite number in"):
        mv.read_edgelist(p, prob=1.5)
    with pytest.raises(ValueError, match="'delimiter'"):
        mv.read_edgelist(p, delimiter="ab")
    with pytest.raises(ValueError, match="'comments'"):
        mv.read_edgelist(p, comments="//")
    with pytest.raises(TypeError, match="'header' must be None"):
        mv.read_edgelist(p, header="yes")
    with pytest.raises(ValueError, match="'self_loops'"):
        mv.read_edgelist(p, self_loops="keep")
    with pytest.raises(ValueError, match="'duplicates'"):
        mv.read_edgelist(p, duplicates="keep")
    with pytest.raises(FileNotFoundError):
        mv.read_edgelist(tmp_path / "missing.txt")


# ---------------------------------------------------------------------------- self-loops and duplicates
def test_self_loops_and_duplicates_dropped_with_warning_naming_file(tmp_path):
    p = write(tmp_path, "d.txt", "0 1 0.5\n1 1 0.5\n0 1 0.9\n1 0 0.3\n")
    with pytest.warns(mv.DataWarning, match=r"d\.txt: 1 self-loop\(s\) dropped; 1 duplicate edge"):
        g = mv.read_edgelist(p, prob="prob")
    assert arcs(g) == [(0, 1), (1, 0)]
    assert g.info == {"self_loops_dropped": 1, "duplicates_dropped": 1}
    assert sorted(g.prob.tolist()) == [0.3, 0.5]          # first occurrence kept
    with pytest.warns(mv.DataWarning):
        u = mv.read_edgelist(p, prob="prob", directed=False)
    assert u.n_arcs == 2 and u.info["duplicates_dropped"] == 2
    with pytest.warns(mv.DataWarning, match="combined"):
        c = mv.read_edgelist(p, prob="prob", duplicates="combine")
    assert np.isclose(c.prob[c.index_of(0) == c.arc_sources][0], 1 - 0.5 * 0.1)


def test_self_loops_and_duplicates_raise_with_line(tmp_path):
    p = write(tmp_path, "d.txt", "# c\n0 1\n2 3\n3 3\n1 0\n0 1\n")
    with pytest.raises(ValueError, match=r"d\.txt, line 4: self-loop 3 -> 3"):
        mv.read_edgelist(p, self_loops="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        with pytest.raises(ValueError, match=r"d\.txt, line 6: duplicate edge 0 -> 1"):
            mv.read_edgelist(p, duplicates="raise")
        with pytest.raises(ValueError, match=r"d\.txt, line 5: duplicate edge 1 -> 0"):
            mv.read_edgelist(p, duplicates="raise", directed=False)


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("suffix", [".txt", ".csv.gz"])
def test_round_trip_with_probabilities_and_isolated_nodes(tmp_path, directed, suffix):
    gen = np.random.default_rng(3)
    src, dst = gen.integers(0, 40, 120), gen.integers(0, 40, 120)
    keep = src != dst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=45, directed=directed,
                                         prob=gen.uniform(0, 1, keep.sum()),
                                         community=gen.choice(["Mr. Hi", "Officer", "x"], 45),
                                         node_ids=np.arange(45) * 7 + 3)
    e, c = tmp_path / ("e" + suffix), tmp_path / ("c" + suffix)
    mv.write_edgelist(g, e, prob="prob")
    mv.write_communities(g, c)
    h = mv.read_edgelist(e, community=c, directed=directed, prob="prob")
    assert h.fingerprint() == g.fingerprint()
    assert h.node_ids.tolist() == g.node_ids.tolist()
    plain = mv.read_edgelist(e.parent / e.name, directed=directed, prob="prob")
    assert plain.n_nodes == int((g.out_degree > 0).sum() if not directed else ((g.out_degree + g.in_degree) > 0).sum())


def test_round_trip_string_ids(tmp_path):
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], node_ids=["ann", "bob", "cy"], community=[1, 2, 2])
    mv.write_edgelist(g, tmp_path / "e.txt")
    mv.write_communities(g, tmp_path / "c.txt")
    h = mv.read_edgelist(tmp_path / "e.txt", community=tmp_path / "c.txt")
    assert h.fingerprint() == g.fingerprint() and h.node_ids.tolist() == ["ann", "bob", "cy"]


def test_writers_reject_unreadable_fields(tmp_path):
    g = mv.CommunityGraph.from_edges([0], [1], node_ids=["a b", "c"])
    mv.write_edgelist(g, tmp_path / "ok.csv")            # a space in an id switches to commas
    assert mv.read_edgelist(tmp_path / "ok.csv").node_ids.tolist() == ["a b", "c"]
    with pytest.raises(ValueError, match="would not read back"):
        mv.write_edgelist(g, tmp_path / "bad.txt", delimiter=" ")
    bad = mv.CommunityGraph.from_edges([0], [1], node_ids=["a#", "c"])
    with pytest.raises(ValueError, match="would not read back"):
        mv.write_edgelist(bad, tmp_path / "bad2.txt")
    wc = mv.probabilities.weighted_cascade(mv.CommunityGraph.from_edges([0, 0], [1, 2], directed=False))
    with pytest.raises(ValueError, match="different probabilities"):
        mv.write_edgelist(wc, tmp_path / "wc.txt", prob="prob")
    with pytest.raises(TypeError, match="'graph' must be"):
        mv.write_edgelist("g", tmp_path / "x.txt")
    with pytest.raises(TypeError, match="'graph' must be"):
        mv.write_communities(None, tmp_path / "x.txt")


# ---------------------------------------------------------------------------- fast path == exact path
_field = st.one_of(st.integers(-50, 50).map(str), st.sampled_from(["a", "b", "node_7", "x.y", "1.5", "NA"]))
_sep = st.sampled_from([" ", "  ", "\t", " \t"])


@st.composite
def _files(draw):
    delimiter = draw(st.sampled_from([",", "whitespace"]))
    lines = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["row", "row", "row", "blank", "comment", "ragged"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
        elif kind == "comment":
            lines.append("# " + draw(st.text(alphabet="ab ,#1", max_size=6)))
        else:
            n = 2 if kind == "row" else draw(st.integers(1, 4))
            fields = [draw(_field) for _ in range(n)]
            if delimiter == ",":
                line = ",".join((" " if draw(st.booleans()) else "") + f for f in fields)
            else:
                line = draw(_sep).join(fields)
                line = draw(st.sampled_from(["", " ", "\t"])) + line + draw(st.sampled_from(["", " "]))
            if draw(st.booleans()):
                line += " # tail"
            lines.append(line)
    return delimiter, "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(deadline=None, max_examples=150)
@given(_files())
def test_fast_tokenizer_agrees_with_exact_tokenizer(case):
    delimiter, text = case
    delimiter = "," if delimiter == "," else mio._WS
    fast = mio._tokenize_fast(text, delimiter, "#")
    rows, _ = mio._tokenize_slow(text, delimiter, "#")
    if fast is not None:            # when the fast path accepts a file it must read it exactly
        assert fast.tolist() == rows or (fast.shape[0] == 0 and rows == [])
    widths = {len(r) for r in rows}
    if len(widths) == 1 and "" not in {f for r in rows for f in r} and fast is None:
        pytest.fail(f"fast path refused a regular file: {text!r}")


def _read_both_ways(path, **kw):
    """read_edgelist with the pandas fast paths on and off: (graph or error line) for each."""
    out = []
    for fast in (True, False):
        mio._FAST = fast
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", mv.DataWarning)
                g = mv.read_edgelist(path, **kw)
            out.append((g.fingerprint(), g.node_ids.tolist(), g.info))
        except ValueError as exc:
            out.append(("error", str(exc).split(":")[0]))
        finally:
            mio._FAST = True
    return out


_num = st.one_of(st.integers(-5, 30).map(str), st.sampled_from(["007", "+3", "1.0", "1e1", "x", "0.5", "nan"]))


@st.composite
def _numeric_files(draw):
    sep = draw(st.sampled_from([",", " ", "\t", ", "]))
    n_cols = draw(st.sampled_from([2, 3]))
    lines = []
    if draw(st.booleans()):
        lines.append(sep.join(draw(st.sampled_from([["id_1", "id_2", "p"], ["a", "1", "p"], ["", "b", "c"]]))[:n_cols]))
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["ok"] * 6 + ["odd", "blank", "comment", "short"]))
        if kind == "blank":
            lines.append("")
        elif kind == "comment":
            lines.append("# note")
        else:
            ids = [str(draw(st.integers(0, 20))) for _ in range(2)]
            if kind == "odd":
                ids[draw(st.integers(0, 1))] = draw(_num)
            row = ids + [draw(st.sampled_from(["0.25", "1", "0", "0.5", "1.5", "nan", "abc"]))]
            lines.append(sep.join(row[: n_cols - (kind == "short")]))
    return "\n".join(lines) + "\n", n_cols


@settings(deadline=None, max_examples=120)
@given(_numeric_files(), st.sampled_from([None, True, False]), st.booleans())
def test_fast_paths_give_the_exact_reader_result(tmp_path_factory, case, header, directed):
    text, n_cols = case
    path = tmp_path_factory.mktemp("fast") / "e.txt"
    path.write_text(text)
    kw = dict(header=header, directed=directed, prob="prob" if n_cols == 3 else None)
    fast, exact = _read_both_ways(path, **kw)
    assert fast == exact, text


@settings(deadline=None, max_examples=80)
@given(_files())
def test_fast_paths_give_the_exact_reader_result_for_text_ids(tmp_path_factory, case):
    delimiter, text = case
    path = tmp_path_factory.mktemp("fast") / "f.txt"
    path.write_text(text)
    fast, exact = _read_both_ways(path, delimiter=delimiter)
    assert fast == exact, text


def test_typed_fast_path_is_used_for_integer_files(tmp_path):
    p = write(tmp_path, "e.csv", "id_1,id_2\n0,1\n1,2\n")
    table = mio._read_table(p, "path", delimiter=None, header=None, comments="#", n_columns=(2,), what="x")
    assert table.columns[0].dtype == np.int64 and table._skip == 1 and table.row_line(1) == 3


# ---------------------------------------------------------------------------- what is not a regular file
def _fifo(tmp_path):
    """A FIFO whose reader, if it ever blocks on it, is released after a few seconds (an empty write side)."""
    path = tmp_path / "fifo"
    os.mkfifo(path)

    def release():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:  # no reader: nothing to release
            pass

    timer = threading.Timer(5.0, release)
    timer.daemon = True
    timer.start()
    return path, timer


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "folder", "socket"])
@pytest.mark.parametrize("reader", ["edges", "communities", "community_argument"])
def test_what_is_not_a_regular_file_is_refused_before_reading(tmp_path, kind, reader):
    timer = None
    if kind == "fifo":
        path, timer = _fifo(tmp_path)
        match = "FIFO"
    elif kind == "dev_zero":
        path, match = "/dev/zero", "character device"
    elif kind == "folder":
        path, match = tmp_path, "folder"
    else:
        path, match = tmp_path / "sock", "socket"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    try:
        with pytest.raises(ValueError, match=f"is (a|an) {match}.*only regular files"):
            if reader == "edges":
                mv.read_edgelist(path, max_bytes=1 << 20)
            elif reader == "communities":
                mv.read_communities(path, max_bytes=1 << 20)
            else:
                mv.read_edgelist(write(tmp_path, "e.txt", "0 1\n"), community=path, max_bytes=1 << 20)
    finally:
        if timer is not None:
            timer.cancel()
        if kind == "socket":
            server.close()


def test_symlink_to_a_regular_file_is_read(tmp_path):
    target = write(tmp_path, "e.txt", "0 1\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert mv.read_edgelist(link).n_arcs == 1


# ---------------------------------------------------------------------------- size limit, streamed gzip
def _bomb(path, n_bytes, block=b"0 1\n" * (1 << 18)):
    """A gzip file of a few KiB that expands to ``n_bytes`` of valid edge lines."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as fh:
        for _ in range(n_bytes // len(block)):
            fh.write(packer.compress(block))
        fh.write(packer.flush())
    return path


def test_gzip_bomb_is_refused_while_streaming_without_inflating_it(tmp_path):
    path = _bomb(tmp_path / "bomb.txt.gz", 64 << 20)        # 64 MiB of text in a small archive
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"more than max_bytes=2,097,152 bytes of text once decompressed"):
            mv.read_edgelist(path, max_bytes=2 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, f"{peak / 2**20:.0f} MiB allocated: the archive was inflated instead of streamed"


@pytest.mark.parametrize("gz", [False, True])
def test_size_limit_applies_to_the_text_and_is_exact(tmp_path, gz):
    text = "0 1\n1 2\n"                                        # 8 bytes of text
    p = write(tmp_path, "e.txt", text, gz=gz)
    assert mv.read_edgelist(p, max_bytes=8).n_arcs == 2
    with pytest.raises(ValueError, match="max_bytes=7"):
        mv.read_edgelist(p, max_bytes=7)
    labels = write(tmp_path, "l.txt", "0 a\n1 a\n2 b\n", gz=gz)
    with pytest.raises(ValueError, match="l.txt: holds more than max_bytes=8"):
        mv.read_edgelist(p, community=labels, max_bytes=8)
    with pytest.raises(ValueError, match="max_bytes=8"):
        mv.read_communities(labels, max_bytes=8)


def test_size_limit_argument_and_default(tmp_path):
    p = write(tmp_path, "e.txt", "0 1\n")
    for bad, err in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("1", TypeError)):
        with pytest.raises(err, match="'max_bytes' must be None or a positive int"):
            mv.read_edgelist(p, max_bytes=bad)
    assert mio._default_max_bytes() >= 64 << 20
    assert mv.read_edgelist(p, max_bytes=np.int64(100)).n_arcs == 1


# ---------------------------------------------------------------------------- ids that differ as text
_LOOKALIKES = [("3", "٣"), ("1000", "1_000"), ("3", "+3"), ("3", "03"), ("0", "-0"), ("0", "00"), ("-3", "-03"),
               ("3", "3.0"), ("3", "³"), ("12", "１２")]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("a, b", _LOOKALIKES)
def test_ids_that_differ_as_text_stay_different_nodes(tmp_path, monkeypatch, fast, a, b):
    monkeypatch.setattr(mio, "_FAST", fast)
    g = mv.read_edgelist(write(tmp_path, "e.txt", f"{a} 5\n{b} 5\n"))
    assert g.n_nodes == 3 and sorted(g.node_ids.tolist()) == sorted([a, b, "5"])
    labels = mv.read_communities(write(tmp_path, "l.txt", f"{a} x\n{b} y\n"))
    assert labels == {a: "x", b: "y"}
    same_label = mv.read_communities(write(tmp_path, "m.txt", f"1 {a}\n2 {b}\n"))
    assert same_label == {1: a, 2: b}                     # labels follow the same rule: two communities


def test_canonical_integer_ids_stay_integers(tmp_path):
    g = mv.read_edgelist(write(tmp_path, "e.csv", "id_1,id_2\n-12,0\n0,7\n"))
    assert g.node_ids.dtype.kind == "i" and g.node_ids.tolist() == [-12, 0, 7]
    for text in ("-12", "0", "7", "9223372036854775807"):
        assert mio._is_int_text(text)
    for text in ("+3", "03", "-0", "1_000", " 3", "3 ", "٣", "", "-", "3.0", "1e3"):
        assert not mio._is_int_text(text)


_token = st.text(alphabet="0123-+_٣ab", min_size=1, max_size=4)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(_token, _token), min_size=1, max_size=8))
def test_one_node_per_distinct_id_text(tmp_path_factory, pairs):
    pairs = [(a, b) for a, b in pairs if a != b]
    if not pairs:
        return
    path = tmp_path_factory.mktemp("ids") / "e.txt"
    path.write_text("".join(f"{a} {b}\n" for a, b in pairs), encoding="utf-8")
    distinct = {t for pair in pairs for t in pair}
    for fast in (True, False):
        mio._FAST = fast
        try:
            g = mv.read_edgelist(path, duplicates="combine", header=False)
        finally:
            mio._FAST = True
        assert g.n_nodes == len(distinct)
        assert {str(x) for x in g.node_ids.tolist()} == distinct


# ---------------------------------------------------------------------------- atomic writers, stated counts
def _graph_with_isolated():
    return mv.CommunityGraph.from_edges([0, 1, 2], [1, 2, 0], n_nodes=4, community=["a", "a", "b", "b"],
                                        prob=[0.5, 0.25, 0.125])


@pytest.mark.parametrize("suffix", [".txt", ".txt.gz"])
@pytest.mark.parametrize("writer", [mv.write_edgelist, mv.write_communities])
@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_writers_are_atomic_and_leave_no_temporary_file(tmp_path, monkeypatch, suffix, writer, interrupt):
    path = tmp_path / f"out{suffix}"
    path.write_bytes(b"old content")
    from microviral import _outputs

    def fail(fd):
        raise interrupt("interrupted after the last row, before the rename")

    monkeypatch.setattr(_outputs.os, "fsync", fail)
    with pytest.raises(interrupt):
        writer(_graph_with_isolated(), path)
    assert path.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == [path.name]
    monkeypatch.undo()
    writer(_graph_with_isolated(), path)
    assert os.listdir(tmp_path) == [path.name]
    assert path.read_bytes() != b"old content"


def _cut(path, n_bytes):
    data = path.read_bytes()
    path.write_bytes(data[:-n_bytes])


@pytest.mark.parametrize("cut, why", [(4, "3, and its last line has no line break"), (1, "3, and its last"),
                                      (10, "2: it was cut short")])
def test_a_truncated_edge_list_is_refused_with_its_stated_count(tmp_path, cut, why):
    p = tmp_path / "g.txt"
    mv.write_edgelist(_graph_with_isolated(), p, prob="prob")  # 3 edges; last line '2 0 0.125'
    assert p.read_text().splitlines()[0] == "# microviral edge list: directed, 4 nodes, 3 edges; third column: prob"
    _cut(p, cut)
    with pytest.raises(ValueError, match=f"g.txt: line 1 states 3 data rows but the file holds {why}"):
        mv.read_edgelist(p, prob="prob")


def test_a_truncated_community_file_is_refused_and_a_grown_one_too(tmp_path):
    p = tmp_path / "l.txt"
    mv.write_communities(_graph_with_isolated(), p)
    assert p.read_text().splitlines()[0] == "# microviral communities: 4 nodes; columns node community"
    text = p.read_text()
    p.write_text(text[: text.rindex("3 b")])               # the last row lost at a line break
    with pytest.raises(ValueError, match="line 1 states 4 data rows but the file holds 3: it was cut short"):
        mv.read_communities(p)
    e = write(tmp_path, "e.txt", "0 1\n")
    with pytest.raises(ValueError, match="l.txt: line 1 states 4"):
        mv.read_edgelist(e, community=p)
    p.write_text(text + "4 c\n")
    with pytest.raises(ValueError, match="states 4 data rows but the file holds 5"):
        mv.read_communities(p)


def test_a_truncated_gzip_file_is_refused(tmp_path):
    p = tmp_path / "g.txt.gz"
    mv.write_edgelist(_graph_with_isolated(), p)
    _cut(p, 5)
    with pytest.raises(ValueError, match="cannot decompress"):
        mv.read_edgelist(p)


def test_files_without_a_stated_count_read_as_before(tmp_path):
    p = write(tmp_path, "e.txt", "# microviral edge list, by hand\n0 1\n1 2")   # no final line break either
    assert mv.read_edgelist(p).n_arcs == 2


# ---------------------------------------------------------------------------- the shared data sets
def test_shared_github_with_target_file(shared_datasets):
    folder = shared_datasets / "github-musae"
    g = mv.read_edgelist(folder / "github_edges.csv.gz", directed=False, community=folder / "github_target.csv")
    assert (g.n_nodes, g.n_arcs, g.n_edges) == (37_700, 578_006, 289_003)
    assert g.community_names == (0, 1)
    assert g.community_sizes.tolist() == [27_961, 9_739]
    assert g.node_ids.tolist() == list(range(37_700))
    assert g.info == {"self_loops_dropped": 0, "duplicates_dropped": 0}


def test_shared_email_eu_core_with_departments(shared_datasets):
    folder = shared_datasets / "email-eu-core"
    with pytest.warns(mv.DataWarning, match="642 self-loop"):
        g = mv.read_edgelist(folder / "email-Eu-core.txt", community=folder / "email-Eu-core-department-labels.txt")
    assert (g.n_nodes, g.n_arcs, g.n_communities) == (1005, 25_571 - 642, 42)
    sizes = g.community_sizes
    assert (sizes.min(), sizes.max(), sizes.sum()) == (1, 109, 1005)
