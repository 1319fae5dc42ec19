"""The command line: every subcommand, one-line errors with non-zero exits, atomic files."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import microviral as mv
from microviral import cli
from microviral.demo import write_atomic

# A path 0 -> 1 -> ... -> 5 in community "a", then 5 -> 6 -> ... -> 9 in community "b";
# node ids in the files are 100 + index (non-contiguous on purpose).
EDGES = "# a comment\n" + "".join(f"{100 + i} {101 + i}\n" for i in range(9))
LABELS = "".join(f"{100 + i} {'a' if i < 5 else 'b'}\n" for i in range(10))


@pytest.fixture
def files(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text(EDGES)
    labels = tmp_path / "labels.txt"
    labels.write_text(LABELS)
    return edges, labels, tmp_path / "out"


# Library argument names that a command-line error must never show (it names the option instead).
PYTHON_NAMES = re.compile(r"'(n_runs|max_rounds|p_in|p_out|theta|k|p|seeds|target|rng)'")


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, expected_code=1, *needles):
    assert code == expected_code
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ------------------------------------------------------------------------------------------- help
def test_help_lists_subcommands(capsys):
    code, out, err = run(["--help"], capsys)
    assert code == 0
    for command in ("demo", "simulate", "compare"):
        assert command in out


def test_python_dash_m_and_console_script_agree():
    """``python -m microviral`` and the installed ``microviral`` script (pip install -e .) print the same help."""
    script = os.path.join(os.path.dirname(sys.executable), "microviral")
    assert os.path.exists(script), "the console script is missing: pip install -e ."
    outputs = []
    for argv in ([sys.executable, "-m", "microviral", "--help"], [script, "--help"]):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "simulate" in proc.stdout and "compare" in proc.stdout and "demo" in proc.stdout
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("command", ["demo", "simulate", "compare"])
def test_subcommand_help(command, capsys):
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0
    assert f"microviral {command}" in out


def test_no_command_prints_help(capsys):
    code, out, _ = run([], capsys)
    assert code == 0 and "COMMAND" in out


# ------------------------------------------------------------------------------------------- simulate
def test_simulate_seed_ids_deterministic_cascade(files, capsys):
    edges, labels, out = files
    # p = 1 on a path: seeding id 103 activates 103..109, i.e. 2 of "a" and all 5 of "b".
    code, stdout, err = run(["simulate", edges, "--community", labels, "--target", "b", "--seeds", "103",
                             "--p", "1", "--runs", "20", "--rng", "3", "--out", out], capsys)
    assert code == 0, err
    assert "penetration" in stdout and str(out / "simulate.csv") in stdout
    table = pd.read_csv(out / "simulate.csv").iloc[0]
    assert table["penetration_mean"] == 1.0
    assert table["reach_mean"] == 7.0
    assert table["spillover_mean"] == 2.0
    info = json.loads((out / "simulate.json").read_text())
    assert info["seeds"] == [103]
    assert info["n_runs"] == 20 and info["rng"] == 3 and info["target"] == "b"
    assert info["summary"][0]["reach_mean"] == 7.0
    assert sorted(os.listdir(out)) == ["simulate.csv", "simulate.json"]


def test_simulate_matches_library_and_is_reproducible(files, capsys):
    edges, labels, out = files
    argv = ["simulate", edges, "--community", labels, "--target", "b", "--seeds", "100,105", "--p", "0.5",
            "--runs", "400", "--rng", "11", "--out", out]
    assert run(argv, capsys)[0] == 0
    first = (out / "simulate.csv").read_text()
    assert run(argv, capsys)[0] == 0
    assert (out / "simulate.csv").read_text() == first
    # The library with the same inputs: reach of seed 100 is 1 + p + ... on the path (truncated at 105).
    g = mv.probabilities.uniform(mv.read_edgelist(edges, community=labels), 0.5)
    expected_reach = sum(0.5**i for i in range(5)) + sum(0.5**i for i in range(5))
    table = pd.read_csv(out / "simulate.csv").iloc[0]
    assert abs(table["reach_mean"] - expected_reach) < 4 * table["reach_se"] + 1e-12
    assert g.n_nodes == 10


def test_simulate_strategy_and_models(files, capsys):
    edges, labels, out = files
    code, stdout, err = run(["simulate", edges, "--community", labels, "--target", "b", "--strategy",
                             "degree_target", "--k", "2", "--prob", "resonance", "--p-in", "0.9",
                             "--p-out", "0.1", "--runs", "50", "--rng", "0", "--out", out, "--plot"], capsys)
    assert code == 0, err
    info = json.loads((out / "simulate.json").read_text())
    assert len(info["seeds"]) == 2 and all(s >= 105 for s in info["seeds"])
    assert (out / "simulate.png").read_bytes()[:4] == b"\x89PNG"
    for model in ("wc", "trivalency"):
        code, _, err = run(["simulate", edges, "--undirected", "--seeds", "100", "--prob", model, "--runs", "10",
                            "--rng", "1", "--out", out], capsys)
        assert code == 0, err
        info = json.loads((out / "simulate.json").read_text())
        assert info["prob"] == model and info["model"] == "ic"


def test_simulate_probabilities_from_a_column(tmp_path, capsys):
    edges = tmp_path / "weighted.csv"
    edges.write_text("src,dst,p\n1,2,1.0\n2,3,0.0\n")
    code, _, err = run(["simulate", edges, "--prob", "column", "--seeds", "1", "--runs", "10", "--rng", "0",
                        "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "o" / "simulate.csv").iloc[0]
    # every run reaches 2 of 3 nodes: the interval still allows what 10 runs cannot rule out
    assert table["reach_mean"] == 2.0 and table["reach_ci_low"] < 2.0 < table["reach_ci_high"] <= 3.0


def test_simulate_bundled_dataset_per_run_keys_replay(tmp_path, capsys):
    out = tmp_path / "o"
    code, stdout, err = run(["simulate", "--dataset", "karate", "--target", "Mr. Hi", "--seeds", "0,33",
                             "--p", "0.2", "--per-run", "--runs", "50", "--rng", "9", "--out", out], capsys)
    assert code == 0, err
    runs = pd.read_csv(out / "simulate_runs.csv", dtype={"key": "uint64"})
    assert list(runs["run"]) == list(range(50))
    # Every run is replayable in the library from its key alone.
    g = mv.probabilities.uniform(mv.datasets.load_karate(), 0.2)
    again = mv.simulate(g, g.index_of([0, 33]), keys=runs["key"].to_numpy(), target="Mr. Hi")
    assert np.array_equal(again.reach, runs["reach"].to_numpy())
    assert np.array_equal(again.target_activated, runs["target_activated"].to_numpy())
    assert json.loads((out / "simulate.json").read_text())["dataset"] == "karate"


def test_edgelist_or_dataset_not_both(files, capsys):
    edges, labels, out = files
    code, _, err = run(["simulate", "--seeds", "1", "--out", out], capsys)
    assert_one_line_error(code, err, 2, "EDGELIST", "--dataset")
    code, _, err = run(["simulate", edges, "--dataset", "karate", "--seeds", "1", "--out", out], capsys)
    assert_one_line_error(code, err, 2, "either")
    code, _, err = run(["simulate", "--dataset", "karate", "--community", labels, "--seeds", "1", "--out", out],
                       capsys)
    assert_one_line_error(code, err, 1, "--community")
    code, _, err = run(["simulate", "--dataset", "karate", "--undirected", "--seeds", "1", "--out", out], capsys)
    assert_one_line_error(code, err, 1, "--undirected")
    code, _, err = run(["simulate", "--dataset", "nope", "--seeds", "1"], capsys)
    assert_one_line_error(code, err, 2, "nope")
    assert not out.exists()


def test_simulate_draws_and_prints_rng_when_not_given(files, capsys):
    edges, labels, out = files
    code, stdout, _ = run(["simulate", edges, "--seeds", "100", "--runs", "5", "--out", out], capsys)
    assert code == 0
    drawn = json.loads((out / "simulate.json").read_text())["rng"]
    assert f"rng {drawn} (drawn)" in stdout


# ------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("extra, needle", [
    (["--target", "nope", "--seeds", "100"], "no community is named 'nope'; the community names are 'a', 'b'"),
    (["--seeds", "999"], "999"),
    (["--seeds", "100,100"], "repeat"),
    (["--seeds", "x1"], "'x1' is not in the graph"),
    (["--seeds", "0100"], "'0100' is not in the graph"),   # ids differ as text: never node 100
    (["--seeds", "+100"], "'+100' is not in the graph"),
    (["--seeds", "1_00"], "'1_00' is not in the graph"),
    (["--seeds", ","], "--seeds"),
    (["--seeds", "100", "--p", "1.5"], "'--p' must be in [0, 1], got 1.5"),
    (["--seeds", "100", "--runs", "0"], "'--runs' must be >= 1, got 0"),
    (["--seeds", "100", "--rng", "-1"], "--rng"),
    (["--strategy", "degree"], "--k"),
    (["--strategy", "no_such", "--k", "1"], "unknown strategy"),
    (["--seeds", "100", "--prob", "resonance"], "--p-in"),
    (["--seeds", "100", "--p-in", "0.2"], "--prob resonance"),
    (["--seeds", "100", "--prob", "resonance", "--p-in", "0.2", "--p-out", "0.1"], "--target"),
    (["--seeds", "100", "--prob", "wc", "--p", "0.2"], "--p"),
    (["--seeds", "100", "--runs", "2000000000"], "memory"),
])
def test_simulate_errors_are_one_line(files, capsys, extra, needle):
    edges, labels, out = files
    code, _, err = run(["simulate", edges, "--community", labels, "--out", out, *extra], capsys)
    assert_one_line_error(code, err, 1, "microviral: ", needle)
    assert not out.exists()  # nothing half-written
    assert not PYTHON_NAMES.search(err), err


def test_string_node_ids(tmp_path, capsys):
    edges = tmp_path / "names.txt"
    edges.write_text("alice bob\nbob carol\ncarol 42\n")
    code, _, err = run(["simulate", edges, "--seeds", "carol,alice", "--p", "1", "--runs", "3", "--rng", "0",
                        "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    info = json.loads((tmp_path / "o" / "simulate.json").read_text())
    assert sorted(map(str, info["seeds"])) == ["alice", "carol"]
    assert info["summary"][0]["reach_mean"] == 4.0


def test_missing_and_malformed_files(tmp_path, capsys):
    code, _, err = run(["simulate", tmp_path / "missing.txt", "--seeds", "1"], capsys)
    assert_one_line_error(code, err, 1, "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n3\n")
    code, _, err = run(["simulate", bad, "--seeds", "1"], capsys)
    assert_one_line_error(code, err, 1, "line 2")


def test_usage_errors_exit_2(files, capsys):
    edges, labels, _ = files
    code, _, err = run(["simulate", edges], capsys)  # neither --seeds nor --strategy
    assert_one_line_error(code, err, 2, "--seeds")
    code, _, err = run(["frobnicate"], capsys)
    assert_one_line_error(code, err, 2, "frobnicate")
    code, _, err = run(["simulate", edges, "--seeds", "100", "--runs", "many"], capsys)
    assert_one_line_error(code, err, 2, "--runs")


def test_unwritable_output_is_one_line(files, capsys):
    edges, labels, out = files
    blocker = out.parent / "a_file"
    blocker.write_text("not a folder")
    code, _, err = run(["simulate", edges, "--seeds", "100", "--runs", "5", "--rng", "0",
                        "--out", blocker / "sub"], capsys)
    assert_one_line_error(code, err, 1, "a_file")


def test_interrupt_and_memory_errors(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    def exhausted(args):
        raise MemoryError("too big")

    monkeypatch.setitem(cli._COMMANDS, "demo", interrupted)
    code, _, err = run(["demo"], capsys)
    assert_one_line_error(code, err, 130, "interrupted")
    monkeypatch.setitem(cli._COMMANDS, "demo", exhausted)
    code, _, err = run(["demo"], capsys)
    assert_one_line_error(code, err, 1, "out of memory", "too big")


def test_subprocess_error_exit_status(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "microviral", "simulate", str(tmp_path / "nope.txt"),
                           "--seeds", "1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_data_warnings_become_notes(tmp_path, capsys):
    edges = tmp_path / "loops.txt"
    edges.write_text("1 1\n1 2\n1 2\n")
    code, _, err = run(["simulate", edges, "--seeds", "1", "--runs", "5", "--rng", "0",
                        "--out", tmp_path / "o"], capsys)
    assert code == 0
    notes = err.splitlines()
    assert notes and all(line.startswith("microviral: note: ") for line in notes)
    assert any("self-loop" in line for line in notes)


# ------------------------------------------------------------------------------------------- atomic files
def test_write_atomic_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("old")

    def broken(f):
        f.write(b"partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomic(path, broken)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.csv"]  # no temporary file left behind
    write_atomic(path, lambda f: f.write(b"new"))
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["x.csv"]
    assert (os.stat(path).st_mode & 0o777) == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_files_replaced_not_rewritten_in_place(files, capsys, monkeypatch):
    """Each output file goes through a temporary file in the same folder and os.replace."""
    edges, labels, out = files
    replaced = []
    real_replace = os.replace

    def spy(src, dst):
        assert os.path.dirname(os.path.abspath(src)) == os.path.dirname(os.path.abspath(dst))
        assert not os.path.exists(dst) or os.path.abspath(src) != os.path.abspath(dst)
        replaced.append(os.path.basename(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    code, _, err = run(["simulate", edges, "--seeds", "100", "--runs", "5", "--rng", "0", "--out", out,
                        "--plot"], capsys)
    assert code == 0, err
    assert sorted(replaced) == ["simulate.csv", "simulate.json", "simulate.png"]


# ------------------------------------------------------------------------------------------- compare
def test_compare_writes_table_and_plots(files, capsys):
    edges, labels, out = files
    code, stdout, err = run(["compare", edges, "--community", labels, "--undirected", "--target", "b",
                             "--strategies", "random,degree_target", "--k", "1,2", "--p", "0.5", "--runs", "100",
                             "--rng", "4", "--out", out], capsys)
    assert code == 0, err
    table = pd.read_csv(out / "compare.csv")
    assert set(table["strategy"]) == {"random", "degree_target"}
    assert set(table["k"]) == {1, 2}
    info = json.loads((out / "compare.json").read_text())
    assert info["strategies"] == ["random", "degree_target"] and info["k"] == [1, 2]
    assert len(info["table"]) == len(table)
    assert info["provenance"]["baseline"] == "random" and "graph_sha256" in info["provenance"]
    for name in ("compare_budget.png", "compare_reach.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    # Reproducible with the same --rng (all but the measured selection times).
    first = table.drop(columns="selection_time_s")
    assert run(["compare", edges, "--community", labels, "--undirected", "--target", "b", "--strategies",
                "random,degree_target", "--k", "1,2", "--p", "0.5", "--runs", "100", "--rng", "4", "--out", out,
                "--no-plot"], capsys)[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "compare.csv").drop(columns="selection_time_s"), first)


@pytest.mark.parametrize("extra, needle", [
    (["--strategies", "degree,bogus"], "bogus"),
    (["--k", "1,x"], "--k"),
    (["--k", "0"], "k"),
    (["--k", "50"], "k"),
])
def test_compare_errors_are_one_line(files, capsys, extra, needle):
    edges, labels, out = files
    code, _, err = run(["compare", edges, "--community", labels, "--target", "b", "--runs", "10", "--rng", "0",
                        "--out", out, *extra], capsys)
    assert_one_line_error(code, err, 1, needle)


# ------------------------------------------------------------------------------------------- demo
def test_demo_quick(tmp_path, capsys):
    png = tmp_path / "figs" / "demo.png"
    code, stdout, err = run(["demo", "--quick", "--runs", "60", "--out", png, "--no-progress"], capsys)
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert str(png) in stdout
    for label in ("random", "highest degree", "highest degree in niche", "degree discount", "targeted IMM"):
        assert label in stdout
    table = pd.read_csv(png.with_suffix(".csv"))
    assert list(table["n_runs"]) == [60] * len(table)
    assert ((table["penetration_ci_low"] <= table["penetration_mean"])
            & (table["penetration_mean"] <= table["penetration_ci_high"])).all()
    # Seeds chosen inside the niche penetrate it more than seeds chosen at random in the whole graph.
    pen = table.set_index("strategy")["penetration_mean"]
    assert pen["highest degree in niche"] > pen["random"]
    assert sorted(os.listdir(png.parent)) == ["demo.csv", "demo.png"]


def test_demo_out_folder(tmp_path, capsys):
    code, stdout, err = run(["demo", "--quick", "--runs", "20", "--k", "2", "--out", str(tmp_path) + os.sep,
                             "--no-progress"], capsys)
    assert code == 0, err
    assert sorted(os.listdir(tmp_path)) == ["demo.csv", "demo.png"]
    code, _, err = run(["demo", "--quick", "--runs", "0", "--out", tmp_path / "x.png"], capsys)
    assert_one_line_error(code, err, 1, "'--runs' must be")
    assert not PYTHON_NAMES.search(err), err


def test_demo_reproducible_and_validated(capsys):
    from microviral.demo import run_demo

    a = run_demo(quick=True, n_runs=30, out=None, file=False, progress=False, rng=5)
    b = run_demo(quick=True, n_runs=30, out=None, file=False, progress=False, rng=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    for name, res in a.results.items():
        assert np.array_equal(res.reach, b.results[name].reach)
    # Every seeding sees the same random worlds (same keys), also when rng is a Generator.
    for demo in (a, run_demo(quick=True, n_runs=30, out=None, file=False, progress=False,
                             rng=np.random.default_rng(3))):
        keys = [res.keys for res in demo.results.values()]
        assert all(np.array_equal(keys[0], k) for k in keys[1:])
    with pytest.raises(ValueError, match="n_runs"):
        run_demo(quick=True, n_runs=0, out=None, file=False)
    with pytest.raises(TypeError, match="k"):
        run_demo(quick=True, k=2.5, out=None, file=False)


# ------------------------------------------------------------------------------------------- --target by name
@pytest.fixture
def sparse_labels(tmp_path):
    """Community labels {0, 2, 5}: '1' must not mean the second community."""
    edges = tmp_path / "e.txt"
    edges.write_text("".join(f"{i} {i + 1}\n" for i in range(5)))
    labels = tmp_path / "l.txt"
    labels.write_text("0 0\n1 2\n2 2\n3 5\n4 5\n5 5\n")          # sizes 1, 2, 3
    return edges, labels, tmp_path / "out"


@pytest.mark.parametrize("target", ["1", "3", "02", "+2", "2.0", " 2", "٢"])
def test_target_that_names_no_community_is_refused_listing_the_names(sparse_labels, capsys, target):
    edges, labels, out = sparse_labels
    code, _, err = run(["simulate", edges, "--community", labels, "--target", target, "--seeds", "0", "--runs", "5",
                        "--rng", "0", "--out", out], capsys)
    assert_one_line_error(code, err, 1, f"'--target': no community is named {target!r}",
                          "the community names are '0', '2', '5'")
    assert not out.exists()


def test_target_is_the_community_named_on_the_command_line(sparse_labels, capsys):
    edges, labels, out = sparse_labels
    for target, size in (("2", 2), ("5", 3), ("0", 1)):
        code, _, err = run(["simulate", edges, "--community", labels, "--target", target, "--seeds", "0", "--p", "1",
                            "--runs", "5", "--rng", "0", "--out", out], capsys)
        assert code == 0, err
        info = json.loads((out / "simulate.json").read_text())
        assert info["target"] == int(target)
        row = pd.read_csv(out / "simulate.csv").iloc[0]
        assert row["target_size"] == size and row["target_activated_mean"] == size   # p = 1 from node 0: all


def test_ambiguous_target_is_refused():
    assert cli._parse_label("1", (1, "x")) == 1
    with pytest.raises(ValueError, match="'--target': '1' names 2 communities"):
        cli._parse_label("1", (1, "1"))


# ------------------------------------------------------------------------------------------- options speak CLI
@pytest.mark.parametrize("command, extra, needle", [
    ("simulate", ["--seeds", "100", "--runs", "-3"], "'--runs' must be >= 1, got -3"),
    ("simulate", ["--seeds", "100", "--max-rounds", "-1"], "'--max-rounds' must be >= 0, got -1"),
    ("simulate", ["--seeds", "100", "--theta", "1.5"], "'--theta' must be in [0, 1], got 1.5"),
    ("simulate", ["--seeds", "100", "--prob", "resonance", "--target", "b", "--p-in", "2", "--p-out", "0.1"],
     "'--p-in' must be in [0, 1], got 2.0"),
    ("simulate", ["--strategy", "degree", "--k", "0"], "'--k' must be >= 1, got 0"),
    ("simulate", ["--strategy", "degree", "--k", "11"], "'--k'"),
    ("compare", ["--runs", "0"], "'--runs' must be >= 1, got 0"),
    ("compare", ["--k", "1,0"], "'--k' budgets must be >= 1, got 0"),
    ("compare", ["--k", "11"], "'--k'"),
    ("compare", ["--theta", "-0.5"], "'--theta' must be in [0, 1]"),
])
def test_errors_name_the_option_not_the_python_argument(files, capsys, command, extra, needle):
    edges, labels, out = files
    code, _, err = run([command, edges, "--community", labels, "--out", out, *extra], capsys)
    assert_one_line_error(code, err, 1, needle)
    assert not PYTHON_NAMES.search(err), err


def test_model_is_the_diffusion_model_and_prob_the_probabilities(files, capsys):
    edges, labels, out = files
    code, _, err = run(["simulate", edges, "--seeds", "100", "--model", "ic", "--runs", "5", "--rng", "0",
                        "--out", out], capsys)
    assert code == 0, err
    assert json.loads((out / "simulate.json").read_text())["model"] == "ic"
    code, _, err = run(["simulate", edges, "--seeds", "100", "--model", "wc"], capsys)
    assert_one_line_error(code, err, 2, "--model", "invalid choice: 'wc'", "'--prob wc'")
    code, _, err = run(["simulate", edges, "--seeds", "100", "--model", "sir"], capsys)
    assert_one_line_error(code, err, 2, "invalid choice: 'sir'")


def test_model_passed_only_to_calls_that_take_it():
    import argparse

    args = argparse.Namespace(model="ic", strategy=None)
    assert cli._model(args, lambda g, model="ic": None) == {"model": "ic"}
    assert cli._model(args, lambda g: None) == {}
    args.model = "lt"
    with pytest.raises(ValueError, match="'--model lt' is not available"):
        cli._model(args, lambda g: None)
    args.strategy = "degree"  # a heuristic: the same seeds under every model
    assert cli._model(args, "strategy") == {}
    args.strategy = "celf_target"
    assert cli._model(args, "strategy") == {"model": "lt"}


def test_linear_threshold_from_the_command_line(files, capsys):
    import microviral as mv

    edges, labels, out = files
    code, _, err = run(["simulate", edges, "--community", labels, "--undirected", "--seeds", "100", "--model", "lt",
                        "--prob", "wc", "--runs", "200", "--rng", "3", "--out", out], capsys)
    assert code == 0, err
    record = json.loads((out / "simulate.json").read_text())
    assert record["model"] == "lt" and record["provenance"]["model"] == "lt"
    # the same runs from the library: the CLI's cascades use the third stream of its rng
    g = mv.probabilities.weighted_cascade(mv.read_edgelist(edges, directed=False, community=labels))
    res = mv.simulate(g, g.index_of([100]), model="lt", n_runs=200, rng=np.random.SeedSequence(3).spawn(3)[2])
    assert (out / "simulate.csv").read_text() == res.summary().to_csv(index=False)
    # weights that do not fit LT are refused, naming the node and the sum
    code, _, err = run(["simulate", edges, "--undirected", "--seeds", "100", "--model", "lt", "--prob", "uniform",
                        "--p", "0.9", "--runs", "5", "--out", out], capsys)
    assert_one_line_error(code, err, 1, "in-weights", "summing to")
    code, _, err = run(["compare", edges, "--community", labels, "--undirected", "--model", "lt", "--prob",
                        "normalized", "--strategies", "degree,celf_target", "--k", "1", "--target", "b", "--runs",
                        "50", "--rng", "0", "--out", out], capsys)
    assert code == 0, err
    assert json.loads((out / "compare.json").read_text())["model"] == "lt"


# ------------------------------------------------------------------------------------------- outputs as one set
def _cli(*argv):
    return [sys.executable, "-m", "microviral", *map(str, argv)]


def _folder(out):
    return {name: (out / name).read_bytes() for name in sorted(os.listdir(out))}


def _assert_complete_set(out):
    """Every file in the folder is listed with its checksum in the run's manifest (the JSON), and no temp file."""
    files = _folder(out)
    assert not [n for n in files if n.startswith(".") or n.endswith(".tmp")], sorted(files)
    manifest = json.loads(files.pop("simulate.json"))
    assert {n: hashlib.sha256(b).hexdigest() for n, b in files.items()} == manifest["files"]
    return manifest


def test_manifest_lists_the_set_and_stale_files_of_an_earlier_run_go(files, capsys):
    edges, labels, out = files
    base = ["simulate", edges, "--community", labels, "--seeds", "100", "--runs", "5", "--rng", "0", "--out", out]
    assert run(base + ["--plot", "--per-run"], capsys)[0] == 0
    assert set(_assert_complete_set(out)["files"]) == {"simulate.csv", "simulate.png", "simulate_runs.csv"}
    assert run(base, capsys)[0] == 0
    assert set(_assert_complete_set(out)["files"]) == {"simulate.csv"}


@pytest.mark.parametrize("stage, sig, code", [
    ("temps", signal.SIGTERM, 143), ("temps", signal.SIGINT, 130),
    ("renames", signal.SIGTERM, 143), ("renames", signal.SIGINT, 130),
])
def test_a_signal_while_writing_leaves_the_old_set_or_the_new_one(files, tmp_path, capsys, stage, sig, code):
    edges, labels, out = files
    argv = ["simulate", edges, "--community", labels, "--target", "b", "--seeds", "100", "--p", "0.5",
            "--runs", "20", "--out", out, "--per-run", "--no-progress"]
    assert run(argv + ["--rng", "1"], capsys)[0] == 0           # the earlier run's set
    old = _folder(out)
    base = _cli(*argv)
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = dict(os.environ, MICROVIRAL_TEST_OUTPUT_HOOK=f"{stage}:{ready}:{go}")
    proc = subprocess.Popen(base + ["--rng", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached its output stage"
            time.sleep(0.02)
        proc.send_signal(sig)
        go.touch()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert b"Traceback" not in stderr and stderr.strip().startswith(b"microviral: ")
    manifest = _assert_complete_set(out)
    if stage == "temps":      # interrupted before any rename: the earlier run's files, untouched
        assert _folder(out) == old
    else:                     # interrupted during the renames: the signal waits until the new set is complete
        assert manifest["rng"] == 2 and set(manifest["files"]) == {"simulate.csv", "simulate_runs.csv"}
        assert _folder(out)["simulate.csv"] != old["simulate.csv"]


def test_closed_stdout_keeps_the_files_and_exits_quietly(files):
    edges, labels, out = files
    proc = subprocess.Popen(_cli("simulate", edges, "--community", labels, "--seeds", "100", "--runs", "5",
                                 "--rng", "0", "--out", out, "--no-progress"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                      # the reader is gone before the first line (as `| head -n 0`)
    stderr = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert stderr == b"", stderr
    assert set(_assert_complete_set(out)["files"]) == {"simulate.csv"}


def test_sigterm_and_sighup_raise_so_that_cleanup_runs():
    from microviral._outputs import Terminated, terminate_raises

    before = signal.getsignal(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with pytest.raises(Terminated) as info:
            with terminate_raises():
                signal.raise_signal(sig)
                time.sleep(5)                    # not reached: the handler raises at once
        assert info.value.args[0] == sig
    assert signal.getsignal(signal.SIGTERM) is before


def test_output_set_cleans_up_on_any_exception(tmp_path):
    from microviral._outputs import write_set

    (tmp_path / "a.csv").write_text("old")

    def broken(f):
        f.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_set({tmp_path / "a.csv": lambda f: f.write(b"new"), tmp_path / "a.json": broken})
    assert os.listdir(tmp_path) == ["a.csv"] and (tmp_path / "a.csv").read_text() == "old"


# ------------------------------------------------------------------------------------------- --tol/--rtol
def test_tol_adds_runs_until_the_interval_is_narrow(files, capsys):
    edges, labels, out = files
    code, stdout, err = run(["simulate", edges, "--community", labels, "--target", "b", "--seeds", "100,105",
                             "--p", "0.5", "--runs", "50", "--tol", "0.02", "--rng", "4", "--out", out], capsys)
    assert code == 0, err
    info = json.loads((out / "simulate.json").read_text())
    row = info["summary"][0]
    assert info["n_runs"] == row["n_runs"] > 50 and f"{info['n_runs']} runs" in stdout
    assert (row["penetration_ci_high"] - row["penetration_ci_low"]) / 2 <= 0.02
    assert info["provenance"]["adaptive"]["reached"]
    code, _, err = run(["simulate", edges, "--community", labels, "--seeds", "100", "--runs", "50", "--rtol",
                        "0.0001", "--max-runs", "80", "--rng", "4", "--out", out], capsys)
    assert code == 0 and "note: stopped at max_runs=80" in err
    code, _, err = run(["compare", edges, "--community", labels, "--target", "b", "--strategies", "degree,random",
                        "--k", "1", "--p", "0.5", "--runs", "50", "--tol", "0.02", "--rng", "4", "--out", out, "--no-plot"],
                       capsys)
    assert code == 0, err
    table = pd.read_csv(out / "compare.csv")
    assert (table["n_runs"] > 50).all()
    assert ((table["penetration_diff_ci_high"] - table["penetration_diff_ci_low"]) / 2 <= 0.02).all()
    code, _, err = run(["simulate", edges, "--community", labels, "--seeds", "100", "--tol", "0", "--out", out],
                       capsys)
    assert code == 1 and "'--tol' must be a finite number in (0, inf]" in err
