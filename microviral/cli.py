"""The ``microviral`` command line: ``demo``, ``simulate`` and ``compare``.

Every subcommand computes, then writes its files, then prints a short summary
and where the files are. The files of one run appear all together or not at
all: each is first written in full to a temporary file in the output folder,
then all are renamed into place with SIGINT, SIGTERM and SIGHUP held back, so an
interrupt either leaves the previous outputs untouched (and no temporary file)
or arrives when the whole new set is in place. The JSON file, renamed last, is
the run's manifest: it lists every file of the run with its SHA-256, so a reader
can check that the files beside it belong to it. Errors are reported as one line
on stderr, without a traceback, naming the command-line option at fault; the exit
status is 1 for bad input or a failed file operation, 2 for a malformed command
line, 130 for Ctrl-C (SIGINT), 143 for SIGTERM (129 for SIGHUP), and 141 when
standard output is closed early (``microviral ... | head -n 1``; the files are
written by then and nothing more is printed).

Examples
--------
>>> from microviral.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
microviral ...
0
"""

import argparse
import hashlib
import inspect
import json
import math
import os
import re
import signal
import sys
import warnings

import numpy as np

__all__ = ["main", "build_parser"]

_PROB_MODELS = ("uniform", "wc", "normalized", "trivalency", "resonance", "column")
_DIFFUSION_MODELS = ("ic", "lt")


class _UsageError(Exception):
    """A malformed command line; exits with status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not exit the interpreter."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


class _Direction(argparse.Action):
    """--directed / --undirected, remembering that one was given (a bundled dataset has its own)."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.directed = option_string == "--directed"
        namespace.directed_given = True


# ---------------------------------------------------------------------------------------------- parser
def build_parser():
    """Return the :mod:`argparse` parser of the ``microviral`` command.

    Examples
    --------
    >>> from microviral.cli import build_parser
    >>> args = build_parser().parse_args(["demo", "--quick"])
    >>> args.command, args.quick
    ('demo', True)
    """
    from . import __version__

    parser = _Parser(
        prog="microviral",
        description="Independent-cascade simulation measured by penetration of a target community.",
        epilog="Run 'microviral COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"microviral {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo",
        help="simulate seedings on a built-in niche-in-background graph and plot penetration versus reach",
        description="Build a niche-in-background graph, compare a few seedings, print penetration versus "
                    "reach with 95%% confidence intervals and write a PNG.",
    )
    demo.add_argument("--quick", action="store_true", help="a smaller graph and fewer runs (a few seconds)")
    demo.add_argument("--out", default=None, metavar="PATH",
                      help="where to write the PNG (default ./microviral-output/demo.png); a CSV of the "
                           "table is written beside it")
    demo.add_argument("--runs", type=int, default=None, metavar="N", help="cascades per seeding")
    demo.add_argument("--k", type=int, default=None, metavar="K", help="seeds per strategy")
    demo.add_argument("--rng", type=int, default=0, metavar="INT", help="random seed (default 0)")
    demo.add_argument("--theta", type=float, default=None, metavar="X",
                      help="penetration threshold that counts as micro-viral")
    _add_progress(demo)

    sim = sub.add_parser(
        "simulate",
        help="simulate cascades from a seed set on an edge-list file",
        description="Simulate independent cascades on a graph read from an edge-list file and measure "
                    "penetration of a target community. Seeds come from --seeds (original node ids) or "
                    "from a strategy (--strategy NAME --k K).",
    )
    _add_graph_args(sim)
    seeds = sim.add_mutually_exclusive_group(required=True)
    seeds.add_argument("--seeds", metavar="IDS", help="comma-separated original node ids")
    seeds.add_argument("--strategy", metavar="NAME",
                       help="a strategy of microviral.seeding.STRATEGIES: random, degree, degree_target, "
                            "degree_discount, imm_target, ...")
    sim.add_argument("--k", type=int, default=None, metavar="K", help="number of seeds for --strategy")
    _add_run_args(sim)
    sim.add_argument("--out", default="microviral-output", metavar="DIR",
                     help="folder for simulate.csv, simulate.json and the plot (default ./microviral-output)")
    sim.add_argument("--plot", action="store_true", help="also write simulate.png (penetration over rounds)")
    sim.add_argument("--per-run", action="store_true",
                     help="also write simulate_runs.csv: one row per run with its key (replayable), reach, "
                          "target activated, penetration, spillover and rounds")
    _add_progress(sim)

    cmp_ = sub.add_parser(
        "compare",
        help="compare seeding strategies over budgets on common random worlds",
        description="Run each strategy at each budget on an edge-list file, simulate every seed set on the "
                    "same random worlds, and write the tidy table (CSV, JSON) and the plots.",
    )
    _add_graph_args(cmp_)
    cmp_.add_argument("--strategies", default="random,degree,degree_discount", metavar="NAMES",
                      help="comma-separated names from microviral.seeding.STRATEGIES (default %(default)s)")
    cmp_.add_argument("--k", default="1,5,10", metavar="BUDGETS",
                      help="comma-separated budgets (default %(default)s)")
    _add_run_args(cmp_, max_rounds=False)
    cmp_.add_argument("--out", default="microviral-output", metavar="DIR",
                      help="folder for compare.csv, compare.json and the plots (default ./microviral-output)")
    cmp_.add_argument("--no-plot", dest="plot", action="store_false", help="do not write the plots")
    _add_progress(cmp_)
    return parser


_DATASETS = {
    "email-eu-core": "load_email_eu_core",
    "polbooks": "load_polbooks",
    "football": "load_football",
    "polblogs": "load_polblogs",
    "karate": "load_karate",
    "github": "load_github",
}


def _add_graph_args(p):
    p.add_argument("edgelist", metavar="EDGELIST", nargs="?", default=None,
                   help="edge-list file: one 'src dst' pair per line (whitespace or CSV, optional header, "
                        "'#' comments, .gz allowed)")
    p.add_argument("--dataset", choices=sorted(_DATASETS), default=None,
                   help="a bundled network with its communities instead of EDGELIST (see microviral.datasets)")
    p.set_defaults(directed_given=False)
    p.add_argument("--community", metavar="FILE", default=None,
                   help="community file: one 'node label' pair per line")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--directed", dest="directed", action=_Direction, nargs=0, default=True,
                           help="edges are one-way arcs (default)")
    direction.add_argument("--undirected", dest="directed", action=_Direction, nargs=0,
                           help="each edge is two arcs with independent coins")
    p.add_argument("--target", default=None, metavar="COMMUNITY",
                   help="the community whose penetration is measured, by its name exactly as in the community "
                        "file (default: every node)")
    p.add_argument("--model", type=_diffusion_model, default="ic", metavar="{" + ",".join(_DIFFUSION_MODELS) + "}",
                   help="diffusion model: ic (independent cascade: --prob gives arc probabilities) or lt (linear "
                        "threshold: --prob gives arc weights, and every node's in-weights must sum to at most 1, "
                        "e.g. --prob wc or --prob normalized); default ic")
    p.add_argument("--prob", choices=_PROB_MODELS, default="uniform", metavar="MODEL",
                   help="edge probabilities (weights under --model lt): uniform (--p), wc (1 / in-degree), "
                        "normalized (random, each node's in-weights summing to 1), trivalency "
                        "({0.1, 0.01, 0.001}), resonance (--p-in into the target, --p-out elsewhere), "
                        "column (a third column of the edge list); default uniform")
    p.add_argument("--p", type=float, default=None, metavar="P",
                   help="probability of every arc for --prob uniform (default 0.1)")
    p.add_argument("--p-in", type=float, default=None, metavar="P", help="resonance: arcs into the target")
    p.add_argument("--p-out", type=float, default=None, metavar="P", help="resonance: all other arcs")


def _diffusion_model(text):
    if text in _DIFFUSION_MODELS:
        return text
    hint = f"; edge probabilities are chosen with '--prob {text}'" if text in _PROB_MODELS else ""
    raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(_DIFFUSION_MODELS)}){hint}")


def _add_run_args(p, max_rounds=True):
    p.add_argument("--runs", type=int, default=1000, metavar="N", help="cascades (default 1000)")
    p.add_argument("--rng", type=int, default=None, metavar="INT",
                   help="random seed; without it one is drawn and printed so the run can be repeated")
    p.add_argument("--theta", type=float, default=0.1, metavar="X",
                   help="penetration threshold that counts as micro-viral (default 0.1)")
    if max_rounds:
        p.add_argument("--max-rounds", type=int, default=None, metavar="R", help="stop cascades after R rounds")
    what = "mean penetration" if max_rounds else "every paired penetration difference against the baseline"
    p.add_argument("--tol", type=float, default=None, metavar="X",
                   help=f"add runs until the 95%% interval of the {what} has half-width <= X; --runs is then the "
                        "first stage (docs/metrics.md)")
    if max_rounds:
        p.add_argument("--rtol", type=float, default=None, metavar="X",
                       help="like --tol, relative: half-width <= X times the mean penetration")
    p.add_argument("--max-runs", type=int, default=100_000, metavar="N",
                   help="most runs with --tol/--rtol (default 100000)")


def _probability_column(path):
    """The name of the edge file's third column: its header's, or "prob" when it has no header."""
    from .io import column_names

    names = column_names(path)
    return "prob" if names is None or len(names) < 3 else names[2]


def _add_progress(p):
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="never show progress bars (default: shown on a terminal)")


# ---------------------------------------------------------------------------------------------- helpers
def _say(text="", file=None):
    print(text, file=file or sys.stdout, flush=True)


def _draw_rng(rng):
    """An explicit seed: the one given, or a fresh one that is printed so the run can be repeated."""
    if rng is not None:
        if rng < 0:
            raise ValueError(f"'--rng' must be a non-negative integer. Got {rng}.")
        return rng, False
    return int(np.random.SeedSequence().entropy % 2**63), True


def _parse_label(text, names):
    """The community whose name reads exactly ``text``; never a position, never a guess."""
    if text is None:
        return None
    matches = [name for name in names if str(name) == text]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(repr(str(n)) for n in names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    if matches:
        raise ValueError(f"'--target': {text!r} names {len(matches)} communities; the community names are {shown}.")
    raise ValueError(f"'--target': no community is named {text!r}; the community names are {shown}.")


def _load_graph(args):
    import microviral as mv

    # Inconsistent options are reported before the file is read.
    if args.prob != "resonance" and (args.p_in is not None or args.p_out is not None):
        raise ValueError("'--p-in' and '--p-out' need '--prob resonance'.")
    if args.prob != "uniform" and args.p is not None:
        raise ValueError(f"'--p' goes with '--prob uniform'. Got '--prob {args.prob}'.")
    if args.prob == "resonance":
        if args.p_in is None or args.p_out is None:
            raise ValueError("'--prob resonance' needs both '--p-in' and '--p-out'.")
        if args.target is None:
            raise ValueError("'--prob resonance' needs '--target' (the community the content is made for).")
    for option in ("p", "p_in", "p_out", "theta"):
        value = getattr(args, option, None)
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"'--{option.replace('_', '-')}' must be in [0, 1], got {value}.")
    for option, least in (("runs", 1), ("max_rounds", 0)):
        value = getattr(args, option, None)
        if value is not None and value < least:
            raise ValueError(f"'--{option.replace('_', '-')}' must be >= {least}, got {value}.")
    if (args.edgelist is None) == (args.dataset is None):
        raise _UsageError(f"microviral {args.command}: error: give either an EDGELIST file or --dataset NAME "
                          f"(see 'microviral {args.command} --help')")
    if args.dataset is not None:
        if args.community is not None or args.prob == "column" or args.directed_given:
            raise ValueError("'--dataset' brings its own communities, direction and no probability column; "
                             "drop '--community', '--directed'/'--undirected' and '--prob column'.")
        from . import datasets

        graph = getattr(datasets, _DATASETS[args.dataset])()
    else:
        graph = mv.read_edgelist(args.edgelist, directed=args.directed, community=args.community,
                                 prob=_probability_column(args.edgelist) if args.prob == "column" else None)
    target = _parse_label(args.target, graph.community_names)
    if args.prob == "uniform":
        graph = mv.probabilities.uniform(graph, 0.1 if args.p is None else args.p)
    elif args.prob == "wc":
        graph = mv.probabilities.weighted_cascade(graph)
    elif args.prob == "normalized":
        graph = mv.probabilities.random_normalized(graph, rng=args.streams[0])
    elif args.prob == "trivalency":
        graph = mv.probabilities.trivalency(graph, rng=args.streams[0])
    elif args.prob == "resonance":
        graph = mv.probabilities.resonance(graph, target, args.p_in, args.p_out)
    return graph, target


def _parse_list(text, name, convert=str):
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise ValueError(f"'{name}' must be a comma-separated list. Got {text!r}.")
    out = []
    for item in items:
        try:
            out.append(convert(item))
        except ValueError:
            raise ValueError(f"'{name}' must be a comma-separated list of {convert.__name__}s. "
                             f"Got {item!r}.") from None
    return out


def _seed_ids(text, graph):
    """Original node ids from the command line: a token is an integer id only when written canonically (as the
    file readers decide), else a string id; so '03' or '+3' never picks node 3."""
    from .io import _is_int_text

    out = []
    for token in _parse_list(text, "--seeds"):
        candidates = [token]
        if _is_int_text(token):
            candidates.insert(0, int(token))
        for candidate in candidates:
            try:
                out.append(int(graph.index_of(candidate)))
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"'--seeds': node id {token!r} is not in the graph.")
    return np.asarray(out, dtype=np.int64)


def _strategy(name, option="--strategy"):
    from . import seeding

    if name not in seeding.STRATEGIES:
        raise ValueError(f"'{option}': unknown strategy {name!r}. Known strategies: "
                         f"{', '.join(sorted(seeding.STRATEGIES))}.")
    return seeding.get_strategy(name)


def _json_text(obj):
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=False)


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _records(table):
    """A DataFrame as a list of JSON-safe dicts (NaN becomes null)."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


def _rendered(write):
    """The bytes that ``write(f)`` produces (so their SHA-256 can go into the manifest)."""
    import io

    buf = io.BytesIO()
    write(buf)
    return buf.getvalue()


def _write_outputs(out, command, files, record, optional):
    """Write one run's files and its JSON manifest (last) as a set; remove the run's optional files that this
    run does not produce, so the folder never mixes two runs. ``files``: name -> bytes."""
    from ._outputs import write_set

    record = dict(record, files={name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
    blobs = dict(files)
    blobs[f"{command}.json"] = _json_text(record).encode()
    paths = {os.path.join(out, name): (lambda f, data=data: f.write(data)) for name, data in blobs.items()}
    stale = [os.path.join(out, name) for name in optional if name not in blobs]
    return write_set(paths, remove=stale)


# ---------------------------------------------------------------------------------------------- commands
def _cmd_demo(args):
    from .demo import DEFAULT_OUT, run_demo

    run_demo(quick=args.quick, out=args.out or DEFAULT_OUT, n_runs=args.runs, k=args.k, rng=args.rng,
             theta=args.theta, progress=args.progress, file=sys.stdout)
    return 0


def _cmd_simulate(args):
    import microviral as mv

    args.rng_value, drawn = _draw_rng(args.rng)
    args.streams = np.random.SeedSequence(args.rng_value).spawn(3)  # probability model, seeding, cascades
    if args.strategy is not None and args.k is None:
        raise ValueError("'--strategy' needs '--k' (the number of seeds).")
    if args.seeds is not None and args.k is not None:
        raise ValueError("'--k' goes with '--strategy'; with '--seeds' the seed count is the list's length.")
    if args.k is not None and args.k < 1:
        raise ValueError(f"'--k' must be >= 1, got {args.k}.")
    graph, target = _load_graph(args)
    _, pick_rng, sim_rng = args.streams
    if args.seeds is not None:
        seeds = _seed_ids(args.seeds, graph)
        how = f"seeds {args.seeds}"
    else:
        seeds = _strategy(args.strategy)(graph, args.k, target=target, rng=pick_rng, **_model(args, "strategy"))
        how = f"strategy {args.strategy}, k={args.k}"
    res = mv.simulate(graph, seeds, n_runs=args.runs, target=target, rng=sim_rng, max_rounds=args.max_rounds,
                      progress=args.progress, tol=args.tol, rtol=args.rtol, max_runs=args.max_runs,
                      **_model(args, mv.simulate))
    args.runs = res.n_runs  # with --tol/--rtol: the runs made
    table = res.summary(theta=args.theta)
    ids = np.asarray(graph.node_ids)[res.seeds]
    files = {"simulate.csv": table.to_csv(index=False).encode()}
    if args.per_run:
        files["simulate_runs.csv"] = res.to_frame().to_csv(index=False).encode()
    if args.plot:
        files["simulate.png"] = _rendered(lambda f: _plot_rounds(res, f, how))
    written = _write_outputs(args.out, "simulate", files, {
        "command": "simulate",
        "edgelist": None if args.edgelist is None else os.path.abspath(args.edgelist),
        "dataset": args.dataset,
        "community_file": None if args.community is None else os.path.abspath(args.community),
        "directed": graph.directed,
        "target": target,
        "model": args.model,
        "prob": args.prob,
        "p": (0.1 if args.p is None else args.p) if args.prob == "uniform" else None,
        "p_in": args.p_in,
        "p_out": args.p_out,
        "seeds": ids.tolist(),
        "strategy": args.strategy,
        "k": args.k,
        "n_runs": args.runs,
        "rng": args.rng_value,
        "theta": args.theta,
        "summary": _records(table),
        "provenance": res.provenance,
    }, optional=("simulate_runs.csv", "simulate.png"))
    from .results import metric_view

    _say(f"graph: {graph!r}")
    _say(f"target: {'every node' if target is None else repr(target)} ({res.target_size} nodes); {how}; "
         f"{args.runs} runs; rng {args.rng_value}{' (drawn)' if drawn else ''}")
    _say(metric_view(table).to_string(float_format=lambda x: f"{x:.4g}"))
    for path in written:
        _say(f"wrote {path}")
    return 0


def _model(args, func):
    """``model=`` for a library call that takes it; a model other than ic where it does not is an error."""
    if func == "strategy":
        from . import seeding

        func = seeding.get_strategy(args.strategy)
    try:
        accepts = "model" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        accepts = False
    if accepts:
        return {"model": args.model}
    if getattr(func, "__module__", None) == "microviral.seeding.heuristics":
        return {}  # heuristics pick the same seeds under every model
    if args.model != "ic":
        raise ValueError(f"'--model {args.model}' is not available for this command yet.")
    return {}


def _plot_rounds(res, f, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    fig, ax = plt.subplots(figsize=(6, 4))
    try:
        plot.penetration_over_rounds({title: res}, ax=ax)
        ax.legend(loc="lower right", fontsize="small")
        fig.savefig(f, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)


def _cmd_compare(args):
    import microviral as mv

    args.rng_value, drawn = _draw_rng(args.rng)
    args.streams = np.random.SeedSequence(args.rng_value).spawn(3)  # probability model, (unused), comparison
    names = _parse_list(args.strategies, "--strategies")
    for name in names:
        _strategy(name, "--strategies")
    budgets = _parse_list(args.k, "--k", int)
    for k in budgets:
        if k < 1:
            raise ValueError(f"'--k' budgets must be >= 1, got {k}.")
    graph, target = _load_graph(args)
    table = mv.compare(graph, names, budgets, target=target, n_runs=args.runs, rng=args.streams[2],
                       theta=args.theta, progress=args.progress, tol=args.tol, max_runs=args.max_runs,
                       **_model(args, mv.compare))
    args.runs = int(table["n_runs"].iloc[0])  # with --tol: the runs made
    files = {"compare.csv": table.to_csv(index=False).encode()}
    if args.plot:
        files.update(_plot_compare(table))
    written = _write_outputs(args.out, "compare", files, {
        "command": "compare",
        "edgelist": None if args.edgelist is None else os.path.abspath(args.edgelist),
        "dataset": args.dataset,
        "community_file": None if args.community is None else os.path.abspath(args.community),
        "directed": graph.directed,
        "target": target,
        "model": args.model,
        "prob": args.prob,
        "strategies": names,
        "k": budgets,
        "n_runs": args.runs,
        "rng": args.rng_value,
        "theta": args.theta,
        "table": _records(table),
        "provenance": dict(table.attrs),
    }, optional=("compare_budget.png", "compare_reach.png"))
    _say(f"graph: {graph!r}")
    _say(f"target: {'every node' if target is None else repr(target)}; strategies {names}; budgets {budgets}; "
         f"{args.runs} runs; rng {args.rng_value}{' (drawn)' if drawn else ''}")
    _say(_compare_view(table, args.theta))
    for path in written:
        _say(f"wrote {path}")
    return 0


def _compare_view(table, theta):
    """The compare table, narrowed to what fits a terminal: means with 95% CIs and the paired difference."""
    def ci(metric, digits):
        return [f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" for m, lo, hi in
                zip(table[f"{metric}_mean"], table[f"{metric}_ci_low"], table[f"{metric}_ci_high"])]

    import pandas as pd

    baseline = table.attrs.get("baseline", table["strategy"].iloc[0])
    view = pd.DataFrame({
        "strategy": table["strategy"],
        "k": table["k"],
        "penetration [95% CI]": ci("penetration", 3),
        "reach [95% CI]": ci("reach", 1),
        "spillover": [f"{x:.1%}" for x in table["spillover_share_mean"]],
        f"P(pen>={theta:g})": [f"{x:.3f}" for x in table["p_microviral_mean"]],
        f"pen - {baseline} [95% CI]": ci("penetration_diff", 3),
    })
    return view.to_string(index=False)


def _plot_compare(table):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    files = {}
    for name, draw in (("compare_budget.png", plot.penetration_vs_budget),
                       ("compare_reach.png", plot.penetration_vs_reach)):
        fig, ax = plt.subplots(figsize=(6, 4))
        try:
            draw(table, ax=ax)
            files[name] = _rendered(lambda f, fig=fig: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))
        finally:
            plt.close(fig)
    return files


_COMMANDS = {"demo": _cmd_demo, "simulate": _cmd_simulate, "compare": _cmd_compare}


# Library argument names as the command line spells them, for an error raised inside a library call.
_OPTION_OF = {"n_runs": "--runs", "k": "--k", "theta": "--theta", "max_rounds": "--max-rounds", "p": "--p",
              "p_in": "--p-in", "p_out": "--p-out", "seeds": "--seeds", "target": "--target", "rng": "--rng",
              "model": "--model", "strategy": "--strategy", "strategies": "--strategies",
              "tol": "--tol", "rtol": "--rtol", "max_runs": "--max-runs"}
_QUOTED_NAME = re.compile(r"'([a-z_]+)'(?=\s+(?:must|needs|should)\b)")


def _one_line(exc):
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _QUOTED_NAME.sub(lambda m: f"'{_OPTION_OF.get(m.group(1), m.group(1))}'", text)


_SIGNAL_EXIT = {getattr(signal, name): 128 + int(getattr(signal, name)) for name in ("SIGTERM", "SIGHUP")
                if hasattr(signal, name)}


def _stdout_closed():
    """Standard output was closed by its reader (``| head``): stop printing, quietly, for good."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return 141  # 128 + SIGPIPE, as a tool killed by a closed pipe


def main(argv=None):
    """Run the ``microviral`` command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on bad input or a failed file operation (one line on
        stderr), 2 on a malformed command line, 130 on SIGINT (Ctrl-C), 143 on
        SIGTERM, 129 on SIGHUP, 141 when standard output was closed early.

    Examples
    --------
    >>> from microviral.cli import main
    >>> main(["simulate", "no-such-file.txt", "--seeds", "0"])  # the error goes to stderr
    1
    """
    from ._outputs import Terminated, terminate_raises

    parser = build_parser()
    try:
        with terminate_raises():
            args = parser.parse_args(argv)
            if args.command is None:
                parser.print_help()
                return 0
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    return _COMMANDS[args.command](args)
                finally:
                    _report_warnings(caught)
    except BrokenPipeError:
        return _stdout_closed()
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("microviral: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        signum = exc.args[0]
        print(f"microviral: terminated by {signal.Signals(signum).name}", file=sys.stderr)
        return _SIGNAL_EXIT.get(signum, 143)
    except MemoryError as exc:
        print(f"microviral: error: out of memory: {_one_line(exc)}", file=sys.stderr)
        return 1
    except (TypeError, ValueError, OSError, LookupError, ImportError) as exc:
        print(f"microviral: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, with a way to see the traceback
        if os.environ.get("MICROVIRAL_TRACEBACK"):
            raise
        print(f"microviral: internal error: {type(exc).__name__}: {_one_line(exc)} (please report it; set "
              f"MICROVIRAL_TRACEBACK=1 to see the traceback)", file=sys.stderr)
        return 1


def _report_warnings(caught):
    seen = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if text not in seen and not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            seen.add(text)
            print(f"microviral: note: {text}", file=sys.stderr)
