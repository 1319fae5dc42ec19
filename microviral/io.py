"""Edge-list and community-file reading and writing.

File rules shared by :func:`read_edgelist` and :func:`read_communities`:

- UTF-8 text, optionally gzip-compressed (recognised by its magic bytes or a
  ``.gz`` suffix); a byte-order mark and Windows (CRLF) or old Mac (CR) line
  endings are accepted.
- One record per line. Fields are separated by commas (CSV) when the first data
  line holds a comma, otherwise by runs of spaces or tabs; pass ``delimiter`` to
  choose. Spaces around CSV fields are ignored. There is no quoting.
- Everything from the ``comments`` character (default ``#``) to the end of a line
  is ignored, and so are blank lines.
- An optional header row: with ``header=None`` the first data row is a header
  when none of its fields is a number while some column holds a number in every
  other row (``id_1,id_2`` above numeric ids, ``name,community`` above integer
  labels). Pass ``header=True`` or ``header=False`` when that guess cannot work,
  e.g. for a file whose fields are all strings.
- Node ids are integers when every id of the edge file (and of the community
  file) is an integer written canonically (ASCII digits with an optional leading
  minus and no leading zero: ``-12``, ``0``, ``7``), otherwise strings, exactly
  as written; so ids that differ as text are different nodes (``3``, ``03``,
  ``+3``, ``٣`` and ``1_000`` against ``1000``). Community labels follow the same
  rule. Nodes are numbered in sorted order of their ids, so a file with ids
  ``0..n-1`` keeps them as indices; ``graph.index_of(ids)`` maps any original
  ids to indices.
- Every malformed line raises ``ValueError`` naming the file, the line number and
  what is wrong.

Examples
--------
>>> import microviral as mv, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "edges.csv").write_text("source,target\\nann,bob\\nbob,cy\\n")
>>> _ = (d / "groups.txt").write_text("ann x\\nbob x\\ncy y\\ndee y\\n")
>>> g = mv.read_edgelist(d / "edges.csv", directed=False, community=d / "groups.txt", header=True)
>>> g.n_nodes, g.n_arcs, g.node_ids.tolist(), g.community_names
(4, 4, ['ann', 'bob', 'cy', 'dee'], ('x', 'y'))
"""

import errno
import gzip
import io
import os
import re
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np

from ._validation import _describe, check_probability
from .graph import CommunityGraph, DataWarning

__all__ = ["read_edgelist", "read_communities", "write_edgelist", "write_communities", "column_names"]

_GZIP_MAGIC = b"\x1f\x8b"
_WS = "whitespace"
_WS_SPLIT = re.compile(r"[ \t\v\f]+")


# ---------------------------------------------------------------------------- reading the raw text
def _check_path(path, name):
    if isinstance(path, (str, os.PathLike)):
        return Path(path)
    raise TypeError(f"'{name}' must be a path (str or os.PathLike). Got {_describe(path)} instead.")


def _open_regular(path):
    """Open ``path`` for binary reading, refusing anything that is not a regular file.

    The file is opened without blocking and checked on the open descriptor, so a
    FIFO, a device such as ``/dev/zero``, a socket or a folder is refused before a
    single byte is read (and cannot be swapped in between a check and the open).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket (or a device without a driver) cannot be opened as a file
            raise ValueError(f"{path}: is {_kind(os.stat(path).st_mode)}; microviral reads only regular files.") \
                from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{path}: is {_kind(mode)}; microviral reads only regular files (save the data to a "
                             f"file first).")
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode):
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def _default_max_bytes():
    """One eighth of the memory available: parsing holds the text and several times its size in fields."""
    from ._memory import available_memory  # the memory guard's view (cgroup and RLIMIT_AS limits included)

    return max(int(available_memory()) // 8, 64 * 2**20)


def _check_max_bytes(max_bytes):
    if max_bytes is None:
        return _default_max_bytes()
    if isinstance(max_bytes, (bool, np.bool_)) or not isinstance(max_bytes, (int, np.integer)):
        raise TypeError(f"'max_bytes' must be None or a positive int (bytes of text). Got {_describe(max_bytes)} "
                        f"instead.")
    if max_bytes < 1:
        raise ValueError(f"'max_bytes' must be None or a positive int (bytes of text). Got {max_bytes} instead.")
    return int(max_bytes)


_CHUNK = 1 << 24


def _too_big(path, max_bytes, packed):
    where = " once decompressed" if packed else ""
    return ValueError(f"{path}: holds more than max_bytes={max_bytes:,} bytes of text{where}; pass a larger "
                      f"'max_bytes' to read it (the default is one eighth of the available memory).")


def _read_bytes(path, max_bytes):
    """The bytes of ``path`` (gzip decompressed as a stream), refusing more than ``max_bytes`` of them."""
    with _open_regular(path) as fh:
        magic = fh.read(2)
        fh.seek(0)
        if magic != _GZIP_MAGIC and path.suffix.lower() != ".gz":
            if os.fstat(fh.fileno()).st_size > max_bytes:
                raise _too_big(path, max_bytes, False)
            data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise _too_big(path, max_bytes, False)
            return data
        data = bytearray()
        try:
            with gzip.GzipFile(fileobj=fh, mode="rb") as packed:
                while True:
                    block = packed.read(min(_CHUNK, max_bytes + 1 - len(data)))
                    if not block:
                        return data
                    data += block
                    if len(data) > max_bytes:
                        raise _too_big(path, max_bytes, True)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: cannot decompress the gzip file ({exc}).") from None


def _read_text(path, max_bytes):
    """Return the decoded text of ``path`` with line endings normalised to ``\\n``."""
    data = _read_bytes(path, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        raise ValueError(
            f"{path}, line {line}: undecodable bytes {bytes(data[start:start + 4])!r} (the file must be UTF-8 text)."
        ) from None
    del data
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _check_delimiter(delimiter):
    if delimiter is None:
        return None
    if not isinstance(delimiter, str):
        raise TypeError(f"'delimiter' must be None or a one-character string. Got {_describe(delimiter)} instead.")
    if delimiter in (" ", _WS):
        return _WS
    if len(delimiter) != 1 or delimiter in "\n\r" or delimiter.isalnum():
        raise ValueError(
            f"'delimiter' must be None, 'whitespace' or one non-alphanumeric character such as ',' or '\\t'. "
            f"Got {delimiter!r} instead."
        )
    return delimiter


def _check_comments(comments):
    if comments is None:
        return None
    if not isinstance(comments, str) or len(comments) != 1 or comments in "\n\r":
        raise ValueError(f"'comments' must be None or one character such as '#'. Got {comments!r} instead.")
    return comments


def _strip_comment(line, comments):
    if comments is not None:
        cut = line.find(comments)
        if cut >= 0:
            line = line[:cut]
    return line


def _iter_lines(text):
    """The lines of ``text`` one at a time, without copying the whole text."""
    pos, size = 0, len(text)
    while pos < size:
        end = text.find("\n", pos)
        if end < 0:
            end = size
        yield text[pos:end]
        pos = end + 1


def _factorize(ids):
    """Sorted distinct ids and the index of each id among them (a dense table for compact int ids)."""
    if ids.dtype.kind == "i" and ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        span = hi - lo + 1
        if span <= max(4 * ids.size, 1 << 20):
            shifted = ids - lo
            present = np.zeros(span, dtype=bool)
            present[shifted] = True
            rank = np.cumsum(present, dtype=np.int64) - 1
            return np.flatnonzero(present) + lo, rank[shifted]
    uniq, inverse = np.unique(ids, return_inverse=True)
    return uniq, inverse.reshape(-1)


def _detect_delimiter(text, comments):
    for line in _iter_lines(text):
        line = _strip_comment(line, comments)
        if line.strip(" \t\v\f"):
            return "," if "," in line else _WS
    return _WS


def _split(line, delimiter):
    if delimiter == _WS:
        return _WS_SPLIT.split(line.strip(" \t\v\f"))
    return [f.strip(" \t\v\f") for f in line.split(delimiter)]


def _tokenize_slow(text, delimiter, comments):
    """Reference tokenizer: (rows of fields, line number of each row). Exact, pure Python."""
    rows, lines = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        line = _strip_comment(line, comments)
        if not line.strip(" \t\v\f"):
            continue
        rows.append(_split(line, delimiter))
        lines.append(number)
    return rows, lines


def _tokenize_fast(text, delimiter, comments):
    """pandas C tokenizer: an object array of stripped fields, or None when a row looks irregular."""
    import pandas as pd

    if not text.strip():
        return np.empty((0, 0), dtype=object)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=r"\s+" if delimiter == _WS else delimiter, header=None, comment=comments,
                dtype=str, keep_default_na=False, na_filter=False, engine="c", quoting=3, skip_blank_lines=True,
                skipinitialspace=True, index_col=False, low_memory=False,
            )
        except Exception:  # ragged rows and anything else: let the exact tokenizer decide
            return None
    if caught:
        return None
    fields = frame.to_numpy(dtype=object)
    if delimiter != _WS and fields.size:
        fields = np.asarray(np.strings.strip(fields.astype(str), " \t\v\f"), dtype=object)
    if fields.size and (fields == "").any():
        return None
    return fields


_FAST = True  # tests switch the pandas fast paths off to compare them with the exact tokenizer


def _read_typed(text, delimiter, comments, n_columns, header):
    """Numeric fast path: ``(columns, skip)`` when every column parses as numbers, else None.

    Accepted only when the id columns (and a label column) come out as int64 and
    a probability column as numbers: then the tokens were plain integers and the
    result equals the exact tokenizer's. A header is tried only where the exact
    rules would take one (all of its fields non-numeric and non-empty).
    """
    import pandas as pd

    if _NONCANONICAL_INT.search(text):
        return None
    if header is None:
        first = _first_row(text, delimiter, comments)
        header = first is not None and not _is_number(first).any()
    hdr = 0 if header else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=r"\s+" if delimiter == _WS else delimiter, header=hdr, comment=comments,
                keep_default_na=False, na_filter=False, engine="c", quoting=3, skip_blank_lines=True,
                skipinitialspace=True, index_col=False, low_memory=False, **_exact_floats(pd),
            )
        except Exception:
            return None
    if caught or frame.shape[1] not in n_columns:   # e.g. a header shorter than the rows: let the exact path judge
        return None
    kinds = [frame.dtypes.iloc[j] for j in range(frame.shape[1])]
    if not all(k == np.int64 for k in kinds[:2]) or (len(kinds) == 3 and kinds[2].kind not in "if"):
        return None
    if hdr == 0 and any(str(c).startswith("Unnamed: ") for c in frame.columns):
        return None
    names = None if hdr is None else [str(c) for c in frame.columns]
    return [frame.iloc[:, j].to_numpy() for j in range(frame.shape[1])], (0 if hdr is None else 1), names


def _exact_floats(pd):
    """pandas before 3 parses floats to within an ulp unless asked to round-trip (3 does, and deprecates the ask)."""
    return {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def _first_row(text, delimiter, comments):
    for line in _iter_lines(text):
        line = _strip_comment(line, comments)
        if line.strip(" \t\v\f"):
            return _split(line, delimiter)
    return None


class _Table:
    """The data rows of one file as columns (after any header), exact line numbers on demand."""

    def __init__(self, path, text, delimiter, comments, n_columns, what, header):
        if header is not None and not isinstance(header, (bool, np.bool_)):
            raise TypeError(f"'header' must be None (detect), True or False. Got {_describe(header)} instead.")
        self.path, self.text, self.comments = path, text, comments
        self.delimiter = _detect_delimiter(text, comments) if delimiter is None else delimiter
        self._skip = 0
        self._lines = None
        self.names = None  # the header's fields, when there is a header
        typed = _read_typed(text, self.delimiter, comments, n_columns, header) if _FAST else None
        if typed is not None:
            self.columns, self._skip, self.names = typed
            self.n_rows = self.columns[0].size
            return
        fields = _tokenize_fast(text, self.delimiter, comments) if _FAST else None
        if fields is None or (fields.size and fields.shape[1] not in n_columns):
            rows, lines = _tokenize_slow(text, self.delimiter, comments)
            want = n_columns[0]
            for row, line in zip(rows, lines):
                if len(row) not in n_columns or "" in row:
                    shown = (" " if self.delimiter == _WS else self.delimiter).join(row)
                    got = len(row) if "" not in row else f"{len(row)} with an empty one"
                    hint = ""
                    if len(row) == 3 and 3 not in n_columns and what.startswith("source"):
                        hint = " Pass prob='<column name>' (e.g. prob='prob') to read a third column as probabilities."
                    raise ValueError(
                        f"{path}, line {line}: expected {want} columns ({what}), got {got}: {shown[:80]!r}.{hint}"
                    )
            fields = np.empty((len(rows), want), dtype=object)
            for i, row in enumerate(rows):
                fields[i, :] = row
            self._lines = np.asarray(lines, dtype=np.int64)
        elif fields.size == 0:
            fields = np.empty((0, n_columns[0]), dtype=object)
        if header is None:
            header = fields.shape[0] >= 2 and _looks_like_header(fields)
        if header and fields.shape[0]:
            self.names = [str(f) for f in fields[0]]
            fields = fields[1:]
            self._skip = 1
        self.columns = [fields[:, j] for j in range(fields.shape[1])]
        self.n_rows = fields.shape[0]

    def row_line(self, row):
        """Line number (1-based) of data row ``row`` (after the header, if any)."""
        if self._lines is None:
            self._lines = np.asarray(_tokenize_slow(self.text, self.delimiter, self.comments)[1], dtype=np.int64)
        return int(self._lines[row + self._skip])


def _is_number(values):
    """Boolean array: which strings parse as real numbers."""
    import pandas as pd

    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").notna().to_numpy()


def _looks_like_header(fields):
    """A header: no field of the first row is a number, but some column is numeric in every other row."""
    if _is_number(fields[0]).any():
        return False
    return any(_is_number(fields[1:, j]).all() for j in range(fields.shape[1]))


_INT_TEXT = r"0|-?[1-9][0-9]*"
# A token that int() or pandas would read as an integer although it is not written canonically ("+3", "03",
# "-0"): its presence sends a file to the exact path, where such ids stay strings.
_NONCANONICAL_INT = re.compile(r"(?<![0-9A-Za-z_.])(?:\+|-?0[0-9_]|-0\b)")


def _is_int_text(text):
    """Whether ``text`` is an integer id written canonically: ASCII digits, an optional leading minus, no
    leading zero, no sign or space or underscore (``"-12"`` yes; ``"+3"``, ``"03"``, ``"-0"``, ``"1_000"``,
    ``" 3"``, ``"٣"`` no). Only such ids are read as integers, so ids that differ as text never merge."""
    return re.fullmatch(_INT_TEXT, text) is not None


def _as_ints(values):
    """``values`` (object array of str) as int64, or None when some value is not a canonical integer."""
    if values.size == 0:
        return np.empty(0, dtype=np.int64)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    import pandas as pd

    canonical = pd.Series(values, dtype=object).str.fullmatch(_INT_TEXT)
    if not canonical.fillna(False).all():
        return None
    try:
        return values.astype(np.int64)
    except (ValueError, OverflowError, TypeError):
        return None


def _table_error(table, row, message):
    return ValueError(f"{table.path}, line {table.row_line(row)}: {message}")


# The first line of a file written by microviral states its row count; a file that disagrees was cut short or
# edited, and is refused rather than read as a smaller graph.
_STATED = (re.compile(r"# microviral edge list: (?:un)?directed, \d+ nodes, (\d+) edges\b.*"),
           re.compile(r"# microviral communities: (\d+) nodes\b.*"))


def _check_stated_count(table, text):
    first = text[:text.find("\n")] if "\n" in text else text
    for pattern in _STATED:
        m = pattern.fullmatch(first.strip())
        if m is None:
            continue
        stated = int(m.group(1))
        if not text.endswith("\n") or table.n_rows != stated:
            ending = "" if text.endswith("\n") else ", and its last line has no line break"
            raise ValueError(
                f"{table.path}: line 1 states {stated} data rows but the file holds {table.n_rows}{ending}: it was "
                f"cut short or edited (delete line 1 to read it as it is)."
            )


def _read_table(path, name, *, delimiter, header, comments, n_columns, what, max_bytes=None):
    path = _check_path(path, name)
    text = _read_text(path, _check_max_bytes(max_bytes))
    table = _Table(path, text, delimiter, comments, n_columns, what, header)
    _check_stated_count(table, text)
    return table


def _parse_prob(table, column):
    raw = table.columns[column]
    try:
        values = raw.astype(np.float64)
    except ValueError:
        ok = _is_number(raw)
        row = int(np.flatnonzero(~ok)[0])
        raise _table_error(table, row, f"probability '{raw[row]}' is not a number.") from None
    bad = ~((values >= 0.0) & (values <= 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _table_error(table, row, f"probability '{raw[row]}' is outside [0, 1].")
    return values


def _parse_labels(values):
    ints = _as_ints(values)
    return ints if ints is not None else values.astype(str)


def _ids(*columns):
    """Convert id columns jointly: all int64 when every id is an integer, else all str."""
    ints = [_as_ints(c) for c in columns]
    if all(i is not None for i in ints):
        return ints
    return [c.astype(str) for c in columns]


# ---------------------------------------------------------------------------- public readers
def read_communities(path, *, delimiter=None, header=None, comments="#", max_bytes=None):
    """Read a community file: one ``<node id> <label>`` pair per line.

    Parameters
    ----------
    path : str or os.PathLike
        The file (plain or gzip). Same format rules as :func:`read_edgelist`.
    delimiter : str, optional
        ``","``, ``"\\t"``, ``"whitespace"``... Default: detected from the first data line.
    header : bool or None, default None
        Whether the first data row is a header; None detects it.
    comments : str or None, default "#"
        Comment character.
    max_bytes : int or None, default None
        Refuse a file holding more bytes of text than this (after gzip
        decompression, which streams and stops there). None: one eighth of the
        memory available to this process.

    Returns
    -------
    dict
        Node id -> label. Ids and labels are ints when every one of them is an
        integer, strings otherwise.

    Raises
    ------
    TypeError
        ``path`` is not a path.
    ValueError
        A line does not have two fields, a node appears twice, bytes are not UTF-8,
        or the file holds no label; the message names the file and the line.
        Also a path that is not a regular file, more text than ``max_bytes``, or
        a file written by microviral whose stated node count does not match.

    Examples
    --------
    >>> import microviral as mv, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = p.write_text("id,target\\n0,1\\n1,0\\n7,1\\n")
    >>> mv.read_communities(p)
    {0: 1, 1: 0, 7: 1}
    """
    ids, labels, _ = _read_label_table(path, "path", delimiter=delimiter, header=header, comments=comments,
                                       max_bytes=max_bytes)
    (ids,) = _ids(ids)
    return dict(zip(ids.tolist(), labels.tolist()))


def _read_label_table(path, name, *, delimiter, header, comments, max_bytes=None):
    delimiter = _check_delimiter(delimiter)
    comments = _check_comments(comments)
    table = _read_table(path, name, delimiter=delimiter, header=header, comments=comments, n_columns=(2,),
                        what="node label", max_bytes=max_bytes)
    if table.n_rows == 0:
        raise ValueError(f"{table.path}: no community labels found (the file has no data rows).")
    ids = table.columns[0]
    labels = _parse_labels(table.columns[1])
    (key,) = _ids(ids)
    order = np.argsort(key, kind="stable")
    same = key[order][1:] == key[order][:-1]
    if same.any():
        row = int(order[1:][same].min())
        raise _table_error(table, row, f"node {key[row].item()!r} is given a label a second time.")
    return ids, labels, table


def column_names(path, *, delimiter=None, header=None, comments="#"):
    """The header's fields of an edge-list or community file, or None when it has no header.

    The header is detected (or given) by the same rules as :func:`read_edgelist`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from microviral.io import column_names
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.csv"
    >>> _ = p.write_text("src,dst,weight\\n1,2,0.5\\n")
    >>> column_names(p)
    ['src', 'dst', 'weight']
    """
    delimiter = _check_delimiter(delimiter)
    comments = _check_comments(comments)
    table = _read_table(path, "path", delimiter=delimiter, header=header, comments=comments, n_columns=(2, 3),
                        what="source target [probability]")
    return table.names


def read_edgelist(path, *, directed=True, community=None, delimiter=None, header=None, comments="#", prob=None,
                  self_loops="drop", duplicates="drop", max_bytes=None):
    """Read a graph from an edge-list file (whitespace-separated or CSV, plain or gzip).

    Parameters
    ----------
    path : str or os.PathLike
        One edge per line, ``<source> <target>`` (plus ``<probability>`` when
        ``prob`` is a column name). See the module documentation for the format rules
        (comments, header detection, delimiters, gzip, id types).
    directed : bool, default True
        If False, each line is an undirected edge: two arcs with independent coins.
    community : path, array-like, dict or None
        A community file (two columns, node id and label, read with the same
        rules; see :func:`read_communities`), a label per node in node-index
        order (sorted ids), or a dict from node id to label. Nodes listed in the
        community file but absent from the edge file are added as **isolated
        nodes**; a node of the edge file missing from the community file is an
        error. None puts every node in one community ``"all"``. The community
        file's delimiter and header are detected on their own (``delimiter`` and
        ``header`` apply to the edge file); for full control read it with
        :func:`read_communities` and pass the dict.
    delimiter : str, optional
        ``","``, ``"\\t"``, ``"whitespace"`` or another single character.
        Default: comma if the first data line holds one, else runs of spaces/tabs.
    header : bool or None, default None
        Whether the edge file's first data row is a header. None detects it
        (see the module documentation).
    comments : str or None, default "#"
        Text from this character to the end of a line is ignored.
    prob : None, float or str
        None gives every arc probability 0.1; a float gives every arc that
        probability; a str reads the probabilities from the input: a third column
        (each in [0, 1]) of that name. When the file has a header, its third field
        must be that name; without a header any name (e.g. ``"prob"``) is taken.
    self_loops : {"drop", "raise"}, default "drop"
        Self-loops are dropped and counted (a :class:`DataWarning` naming the
        file, and ``graph.info["self_loops_dropped"]``), or rejected with their line.
    duplicates : {"drop", "combine", "raise"}, default "drop"
        Repeated edges (for undirected graphs ``v u`` after ``u v`` too): keep the
        first, combine as parallel chances ``1 - prod(1 - p)``, or reject with
        their line. Dropped or combined ones are counted as for self-loops.
    max_bytes : int or None, default None
        Refuse a file (edge or community file) holding more bytes of text than
        this; a gzip file is decompressed as a stream that stops there, so a
        small archive of a huge text is refused without inflating it. None: one
        eighth of the memory available to this process (parsing needs several
        times the text's size).

    Returns
    -------
    CommunityGraph
        With ``node_ids`` holding the original ids (sorted), so
        ``graph.index_of(ids)`` maps them to node indices.

    Raises
    ------
    TypeError
        An argument has the wrong type.
    ValueError
        A malformed line (wrong number of columns, a probability that is not a
        number or lies outside [0, 1], undecodable bytes), with file and line
        number; an unreadable gzip file; a path that is not a regular file (a
        FIFO, a device, a folder); more text than ``max_bytes``; a file written
        by microviral whose stated edge count does not match (cut short); a
        node without a community label; an empty file; a rejected self-loop or
        duplicate.

    Examples
    --------
    >>> import microviral as mv, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.txt"
    >>> _ = p.write_text("# a comment\\n10 20 0.5\\n20 30 0.25\\n")
    >>> g = mv.read_edgelist(p, prob="prob")
    >>> g.n_nodes, g.n_arcs, g.node_ids.tolist(), g.prob.tolist()
    (3, 2, [10, 20, 30], [0.5, 0.25])
    >>> g.index_of([30, 10]).tolist()
    [2, 0]
    """
    if not isinstance(directed, (bool, np.bool_)):
        raise TypeError(f"'directed' must be a bool. Got {_describe(directed)} instead.")
    if not isinstance(self_loops, str) or self_loops not in ("drop", "raise"):
        raise ValueError(f"'self_loops' must be 'drop' or 'raise'. Got {self_loops!r} instead.")
    if not isinstance(duplicates, str) or duplicates not in ("drop", "combine", "raise"):
        raise ValueError(f"'duplicates' must be 'drop', 'combine' or 'raise'. Got {duplicates!r} instead.")
    prob_column = isinstance(prob, str)
    if prob_column:
        if not prob:
            raise ValueError("'prob' as a column name must not be empty. Got ''.")
    elif prob is not None:
        prob = check_probability(prob, "prob")
    delimiter = _check_delimiter(delimiter)
    comments = _check_comments(comments)
    label_path = None
    if isinstance(community, (str, os.PathLike)):
        label_path = Path(community)
    n_columns = (3,) if prob_column else (2,)
    what = "source target probability" if prob_column else "source target"
    max_bytes = _check_max_bytes(max_bytes)
    table = _read_table(path, "path", delimiter=delimiter, header=header, comments=comments, n_columns=n_columns,
                        what=what, max_bytes=max_bytes)
    n_edges = table.n_rows
    if prob_column and table.names is not None and table.names[2] != prob:
        raise ValueError(f"{table.path}: 'prob' names the probability column {prob!r}, but the header's third "
                         f"column is {table.names[2]!r}. Pass prob={table.names[2]!r}.")
    if prob_column:
        edge_prob = _parse_prob(table, 2) if n_edges else np.empty(0)
    else:
        edge_prob = np.full(n_edges, 0.1 if prob is None else prob)
    src_raw = table.columns[0] if n_edges else np.empty(0, dtype=object)
    dst_raw = table.columns[1] if n_edges else np.empty(0, dtype=object)

    if label_path is not None:
        lab_ids_raw, lab_values, lab_table = _read_label_table(label_path, "community", delimiter=None,
                                                               header=None, comments=comments, max_bytes=max_bytes)
        src_ids, dst_ids, lab_ids = _ids(src_raw, dst_raw, lab_ids_raw)
    else:
        src_ids, dst_ids = _ids(src_raw, dst_raw)
        lab_ids = src_ids[:0]
    if n_edges == 0 and lab_ids.size == 0:
        raise ValueError(f"{table.path}: no edges found (the file has no data rows).")
    all_ids = np.concatenate([src_ids, dst_ids, lab_ids])
    node_ids, inverse = _factorize(all_ids)
    src = inverse[:n_edges]
    dst = inverse[n_edges:2 * n_edges]
    n_nodes = node_ids.size

    labels = None
    if label_path is not None:
        labels = np.empty(n_nodes, dtype=lab_values.dtype)
        has = np.zeros(n_nodes, dtype=bool)
        lab_index = inverse[2 * n_edges:]
        labels[lab_index] = lab_values
        has[lab_index] = True
        if not has.all():
            missing = node_ids[~has]
            raise ValueError(
                f"{lab_table.path}: no community label for {missing.size} node(s) of {table.path}, "
                f"e.g. {missing[:5].tolist()}."
            )
    elif community is not None:
        labels = community

    if self_loops == "raise":
        loops = np.flatnonzero(src == dst)
        if loops.size:
            row = int(loops[0])
            raise _table_error(table, row, f"self-loop {src_raw[row]} -> {dst_raw[row]} (self_loops='raise').")
    if duplicates == "raise" and n_edges:
        a, b = (src, dst) if directed else (np.minimum(src, dst), np.maximum(src, dst))
        key = a.astype(np.int64) * n_nodes + b
        order = np.argsort(key, kind="stable")
        same = key[order][1:] == key[order][:-1]
        same &= (src[order][1:] != dst[order][1:]) if self_loops == "drop" else True
        if same.any():
            row = int(order[1:][same].min())
            raise _table_error(table, row, f"duplicate edge {src_raw[row]} -> {dst_raw[row]} (duplicates='raise').")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        graph = CommunityGraph.from_edges(src, dst, n_nodes=n_nodes, community=labels, directed=bool(directed),
                                          prob=edge_prob, node_ids=node_ids, self_loops=self_loops,
                                          duplicates=duplicates)
    for w in caught:
        if issubclass(w.category, DataWarning):
            warnings.warn(f"{table.path}: {w.message}", DataWarning, stacklevel=2)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return graph


# ---------------------------------------------------------------------------- writers
def _check_graph(graph):
    if not isinstance(graph, CommunityGraph):
        raise TypeError(f"'graph' must be a microviral.CommunityGraph. Got {_describe(graph)} instead.")


def _check_tokens(values, what, delimiter, comments="#"):
    """Strings that would not read back as one field are an error."""
    for v in values:
        s = str(v)
        bad = (not s or s != s.strip() or "\n" in s or "\r" in s or comments in s
               or (delimiter == " " and re.search(r"[ \t\v\f]", s)) or (delimiter != " " and delimiter in s))
        if bad:
            raise ValueError(
                f"Cannot write {what} {s!r}: it is empty, has surrounding spaces, or holds the delimiter "
                f"{delimiter!r}, '#' or a line break, so it would not read back as one field."
            )


def _writer_delimiter(delimiter, values):
    if delimiter is None:
        needs_csv = any(re.search(r"[ \t\v\f]", str(v)) for v in values)
        return "," if needs_csv else " "
    if delimiter not in (" ", ",", "\t", ";", "|"):
        raise ValueError(f"'delimiter' must be None, ' ', ',', '\\t', ';' or '|'. Got {delimiter!r} instead.")
    return delimiter


def _fmt(values):
    """Values as a list of Python strings."""
    return [str(v) for v in np.asarray(values).tolist()]


def write_edgelist(graph, path, *, prob=None, delimiter=None):
    """Write a graph's edges to a text file, one ``<source> <target>`` per line.

    Node ids are written as ``graph.node_ids``. An undirected graph writes each
    edge once. A ``.gz`` suffix writes gzip. The first line is a ``#`` comment
    describing the graph and stating its edge count, which the readers check, so
    a file cut short is refused rather than read as a smaller graph. The file is
    written to a temporary file in the same folder and renamed over ``path`` only
    when complete: ``path`` holds the old content or the new, never a part, and
    an error or interrupt leaves no temporary file. Isolated nodes do not appear in an edge list; write
    the labels with :func:`write_communities` and read both back with
    ``read_edgelist(edges, community=labels)`` to keep them.

    Parameters
    ----------
    graph : CommunityGraph
    path : str or os.PathLike
    prob : None or str
        A str also writes each edge's probability as a third column of that name
        (named in the first line's comment; read it back with the same ``prob``);
        floats are written in shortest round-trip form. None writes two columns.
    delimiter : str, optional
        ``" "`` (default), ``","``, ``"\\t"``, ``";"`` or ``"|"``.

    Raises
    ------
    TypeError
        ``graph`` is not a CommunityGraph or ``path`` not a path.
    ValueError
        A node id would not read back as one field, or (with a ``prob`` column) the
        two arcs of an undirected edge carry different probabilities.

    Examples
    --------
    >>> import microviral as mv, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.txt"
    >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=[0.5, 0.25])
    >>> mv.write_edgelist(g, p, prob="prob")
    >>> print(p.read_text().splitlines()[1:])
    ['0 1 0.5', '1 2 0.25']
    >>> mv.read_edgelist(p, prob="prob").prob.tolist()
    [0.5, 0.25]
    """
    _check_graph(graph)
    path = _check_path(path, "path")
    if prob is not None and not isinstance(prob, str):
        raise TypeError(f"'prob' must be None or a column name (str). Got {_describe(prob)} instead.")
    if prob is not None:
        _check_tokens([prob], "the 'prob' column name", " ")
    ids = graph.node_ids
    delimiter = _writer_delimiter(delimiter, ids.tolist() if ids.dtype.kind not in "iu" else [])
    if ids.dtype.kind not in "iu":
        _check_tokens(ids.tolist(), "node id", delimiter)
    src = graph.arc_sources.astype(np.int64)
    dst = graph.indices.astype(np.int64)
    p = graph.prob
    if not graph.directed:
        if prob is not None:
            n = graph.n_nodes
            order_f = np.argsort(src * n + dst)
            order_b = np.argsort(dst * n + src)
            if not np.array_equal(p[order_f], p[order_b]):
                raise ValueError(
                    "'graph' is undirected but the two arcs of some edge carry different probabilities; "
                    "write it with prob=None, or write a directed copy."
                )
        keep = src < dst
        src, dst, p = src[keep], dst[keep], p[keep]
    id_text = _fmt(ids)                       # each id formatted once, then looked up per edge
    columns = [(id_text, src), (id_text, dst)]
    if prob is not None:
        uniq, inverse = np.unique(p, return_inverse=True)
        columns.append(([repr(x) for x in uniq.tolist()], inverse.reshape(-1)))
    kind = "directed" if graph.directed else "undirected"
    head = f"# microviral edge list: {kind}, {graph.n_nodes} nodes, {src.size} edges"
    if prob is not None:
        head += f"; third column: {prob}"
    _write_lines(path, head, columns, delimiter)


def write_communities(graph, path, *, delimiter=None):
    """Write each node's id and community name, one ``<node id> <community>`` per line.

    Every node is written, isolated ones included. The default delimiter is a
    space, or a comma when some id or name holds a space (``"Mr. Hi"``). The
    first line is a ``#`` comment stating the node count, which the readers check
    (a file cut short is refused). The file is replaced atomically (see
    :func:`write_edgelist`).

    Parameters
    ----------
    graph : CommunityGraph
    path : str or os.PathLike
        A ``.gz`` suffix writes gzip.
    delimiter : str, optional
        ``" "``, ``","``, ``"\\t"``, ``";"`` or ``"|"``; default chosen as above.

    Raises
    ------
    TypeError
        ``graph`` is not a CommunityGraph or ``path`` not a path.
    ValueError
        An id or name would not read back as one field.

    Examples
    --------
    >>> import microviral as mv, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.txt"
    >>> g = mv.CommunityGraph.from_edges([0], [1], community=["a", "b"])
    >>> mv.write_communities(g, p)
    >>> mv.read_communities(p)
    {0: 'a', 1: 'b'}
    """
    _check_graph(graph)
    path = _check_path(path, "path")
    ids = graph.node_ids
    names = [str(n) for n in graph.community_names]
    id_list = ids.tolist() if ids.dtype.kind not in "iu" else []
    delimiter = _writer_delimiter(delimiter, id_list + names)
    _check_tokens(id_list, "node id", delimiter)
    _check_tokens(names, "community name", delimiter)
    columns = [(_fmt(ids), np.arange(graph.n_nodes)), (names, graph.community)]
    head = f"# microviral communities: {graph.n_nodes} nodes; columns node{delimiter}community"
    _write_lines(path, head, columns, delimiter)


def _write_lines(path, head, columns, delimiter, chunk=1_000_000):
    """Write rows whose field ``j`` is ``columns[j][0][columns[j][1][row]]`` (a text table and an index).

    Atomic: the rows go to a temporary file beside ``path`` that replaces it only
    once complete, so a reader sees the old file or the new one, never a part; an
    exception or interrupt (KeyboardInterrupt included) removes the temporary file.
    """
    from ._outputs import write_atomic

    def write(raw):
        packed = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) if path.suffix.lower() == ".gz" \
            else None
        fh = io.TextIOWrapper(packed or raw, encoding="utf-8", newline="\n")
        try:
            fh.write(head + "\n")
            n_rows = columns[0][1].size
            for start in range(0, n_rows, chunk):
                fields = [[text[i] for i in index[start:start + chunk].tolist()] for text, index in columns]
                fh.write("\n".join(map(delimiter.join, zip(*fields))))
                fh.write("\n")
        finally:
            fh.detach()  # the temporary file stays open: write_atomic syncs and renames it, or removes it
        if packed is not None:
            packed.close()

    write_atomic(path, write)
