"""Correctness smoke test of benchmarks/bench_training.py on a tiny configuration.

Not a timing test: it checks that the three implementations (layers_lib, PyTorch, the fused
NumPy loop) train the same network identically, so the benchmark compares like with like,
and that the report carries the fields the issue asks for. No assertion on any time.
"""
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

BENCH_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_training", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_and_weights_are_float32_and_seeded(bench):
    X, y = bench.make_data(300, seed=1)
    X2, y2 = bench.make_data(300, seed=1)
    assert X.dtype == np.float32 and X.shape == (300, 784)
    assert np.issubdtype(y.dtype, np.integer) and y.shape == (300,) and set(np.unique(y)) <= set(range(10))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    params = bench.init_params()
    assert [W.shape for W, _ in params] == [(784, 256), (256, 128), (128, 10)]
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in params)


def test_three_implementations_agree_step_by_step(bench):
    """Same initial weights, same batches: the same loss on the first batch, after every one of
    several SGD-momentum steps, and (nearly) the same weights afterwards."""
    X, y = bench.make_data(512, seed=3)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=3)
    trainers = bench.make_trainers(params, lr=0.01, momentum=0.9, batch_size=128)

    losses = bench.compare_losses(trainers, batches, steps=5)
    assert set(losses) == set(bench.IMPLEMENTATIONS)
    reference = np.asarray(losses["layers_lib"])
    assert len(reference) == 6 and np.all(np.isfinite(reference))
    assert reference[-1] < reference[0]          # it does train
    for name in ("torch", "fused"):
        np.testing.assert_allclose(losses[name], reference, rtol=1e-4, atol=1e-5, err_msg=name)

    final = {name: trainer.params() for name, trainer in trainers.items()}
    for name in ("torch", "fused"):
        for (W, b), (W_ref, b_ref) in zip(final[name], final["layers_lib"]):
            assert W.dtype == np.float32 and W.shape == W_ref.shape
            np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-5, err_msg=name)
            np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-5, err_msg=name)


def test_fused_input_grad_reference_agrees(bench):
    """fused_dx trains identically and its input gradient equals layers_lib's grad_input."""
    X, y = bench.make_data(256, seed=6)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=6)
    trainers = bench.make_trainers(params, names=("layers_lib", "fused", bench.FUSED_DX))
    losses = bench.compare_losses(trainers, batches, steps=2)
    np.testing.assert_allclose(losses[bench.FUSED_DX], losses["fused"], rtol=1e-6)
    fresh = {name: bench.make_trainer(name, params) for name in ("layers_lib", bench.FUSED_DX)}
    for name, trainer in fresh.items():
        trainer.step(*batches.get(name, 0))
    expected = fresh["layers_lib"].model.grad_input
    np.testing.assert_allclose(fresh[bench.FUSED_DX].grad_x, expected, rtol=1e-4,
                               atol=1e-5 * np.abs(expected).max())


def test_partial_last_batch_agrees(bench):
    """300 samples at batch 128: the last batch has 44 rows (the fused loop uses buffer views)."""
    X, y = bench.make_data(300, seed=4)
    batches = bench.Batches(X, y, batch_size=128)
    assert [s.stop - s.start for s in batches.slices] == [128, 128, 44]
    params = bench.init_params(seed=4)
    means = {name: bench.run_epoch(bench.make_trainer(name, params), batches)
             for name in bench.IMPLEMENTATIONS}
    for name in ("torch", "fused"):
        assert math.isclose(means[name], means["layers_lib"], rel_tol=1e-4), (name, means)


def test_compare_losses_detects_a_disagreement(bench):
    X, y = bench.make_data(256, seed=5)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=5)
    trainers = bench.make_trainers(params)
    trainers["fused"].W[2][:, 0] += np.float32(0.5)   # class 0 logit changed: another network
    with pytest.raises(AssertionError, match="fused"):
        bench.compare_losses(trainers, batches, steps=1)


def test_report_has_ratio_fields(bench, tmp_path):
    report = bench.benchmark(n_samples=512, batch_size=128, repeats=1, threads=1,
                             warmup_batches=1, check_steps=2)
    assert set(report["seconds_per_epoch"]) == set(bench.IMPLEMENTATIONS)
    assert all(len(report["runs"][name]) == 1 for name in bench.IMPLEMENTATIONS)
    assert all(t > 0 for t in report["seconds_per_epoch"].values())
    for key in ("ratio_layers_lib_vs_torch", "ratio_layers_lib_vs_fused",
                "ratio_best_layers_lib_vs_torch", "ratio_best_layers_lib_vs_fused",
                "ratio_paired_layers_lib_vs_torch", "ratio_paired_layers_lib_vs_fused"):
        assert math.isfinite(report[key]) and report[key] > 0
    assert report["ratio_layers_lib_vs_torch"] == pytest.approx(
        report["seconds_per_epoch"]["layers_lib"] / report["seconds_per_epoch"]["torch"])
    targets = report["targets"]
    assert targets["vs_torch_max"] == 0.8 and targets["vs_fused_max"] == 1.25
    assert isinstance(targets["vs_torch_met"], bool) and isinstance(targets["vs_fused_met"], bool)
    assert isinstance(targets["reliable"], bool)
    env = report["environment"]
    assert env["threads"] == 1 and env["numpy"] == np.__version__ and env["torch"]
    assert "foreign_cpu_fraction" in env and "cpu" in env
    assert report["config"]["batches_per_epoch"] == 4 and report["config"]["repeats"] == 1

    text = bench.format_report(report)
    assert "layers_lib / torch" in text and "layers_lib / fused" in text
    for name in bench.IMPLEMENTATIONS:
        assert name in text


def test_main_writes_json(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    bench.main(["--samples", "256", "--repeats", "1", "--threads", "1", "--quiet",
                "--fused-input-grad", "--json", str(out)])
    data = json.loads(out.read_text())
    for key in ("ratio_layers_lib_vs_torch", "ratio_layers_lib_vs_fused",
                "ratio_layers_lib_vs_fused_dx"):
        assert key in data and data[key] > 0
    assert set(data["seconds_per_epoch"]) == {*bench.IMPLEMENTATIONS, bench.FUSED_DX}
    assert "layers_lib / fused" in capsys.readouterr().out
