"""Correctness smoke test of benchmarks/bench_training.py on a tiny configuration.

Not a timing test: it checks that the five implementations (layers_lib, PyTorch with and
without the input gradient, the fused NumPy loop with and without it) train the same network
identically and that the three computing the input gradient (layers_lib, torch_dx, fused_dx)
agree on it, so the benchmark compares like with like, and that the report carries the fields
the issue asks for. No assertion on any time.
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


PEERS = ("torch", "torch_dx", "fused", "fused_dx")


def test_the_like_with_like_columns_are_measured(bench):
    assert bench.IMPLEMENTATIONS == ("layers_lib", "torch", "torch_dx", "fused", "fused_dx")
    assert set(bench.INPUT_GRAD_NAMES) == {"layers_lib", "torch_dx", "fused_dx"}
    assert (bench.TARGET_VS_FUSED_DX, bench.TARGET_VS_TORCH_DX) == (1.05, 0.9)


def test_five_implementations_agree_step_by_step(bench):
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
    for name in PEERS:
        np.testing.assert_allclose(losses[name], reference, rtol=1e-4, atol=1e-5, err_msg=name)
    # computing the input gradient changes nothing else
    np.testing.assert_allclose(losses["torch_dx"], losses["torch"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(losses["fused_dx"], losses["fused"], rtol=1e-6, atol=1e-7)

    final = {name: trainer.params() for name, trainer in trainers.items()}
    for name in PEERS:
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


def test_input_gradients_agree_step_by_step(bench):
    """layers_lib, torch_dx (autograd with a requires_grad input) and fused_dx compute the same
    dL/dinput, float32, at every step; torch and fused compute none."""
    X, y = bench.make_data(512, seed=7)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=7)
    errors = bench.compare_input_grads(bench.make_trainers(params), batches, steps=4)
    assert set(errors) == {"layers_lib", "torch_dx", "fused_dx"}
    for name in ("torch_dx", "fused_dx"):
        assert len(errors[name]) == 4 and max(errors[name]) < 1e-5, (name, errors[name])

    fresh = bench.make_trainers(params)
    for name, trainer in fresh.items():
        trainer.step(*batches.get(name, 0))
    expected = fresh["layers_lib"].model.grad_input
    assert expected.shape == (128, 784) and expected.dtype == np.float32
    assert np.abs(expected).max() > 0
    for name in ("torch_dx", "fused_dx"):
        got = fresh[name].input_grad()
        assert isinstance(got, np.ndarray) and got.dtype == np.float32, name
        np.testing.assert_allclose(got, expected, rtol=1e-4,
                                   atol=1e-5 * np.abs(expected).max(), err_msg=name)
    assert fresh["torch"].input_grad() is None and fresh["fused"].input_grad() is None


def test_torch_dx_computes_the_input_gradient_torch_does_not(bench):
    X, y = bench.make_data(256, seed=8)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=8)
    for name, wanted in (("torch", False), ("torch_dx", True)):
        trainer = bench.make_trainer(name, params)
        xb, yb, tb = batches.get(name, 0)
        trainer.step(xb, yb, tb)
        assert xb.requires_grad is wanted and (xb.grad is not None) is wanted, name
        assert not batches.X_torch.requires_grad          # the data tensor itself is untouched


def test_compare_input_grads_detects_a_disagreement(bench):
    X, y = bench.make_data(256, seed=9)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=9)
    trainers = bench.make_trainers(params, names=bench.INPUT_GRAD_NAMES)
    trainers["fused_dx"].W[0][:5] *= np.float32(1.5)     # another first layer, another dL/dX
    with pytest.raises(AssertionError, match="fused_dx"):
        bench.compare_input_grads(trainers, batches, steps=1)


def test_partial_last_batch_agrees(bench):
    """300 samples at batch 128: the last batch has 44 rows (the fused loop uses buffer views)."""
    X, y = bench.make_data(300, seed=4)
    batches = bench.Batches(X, y, batch_size=128)
    assert [s.stop - s.start for s in batches.slices] == [128, 128, 44]
    params = bench.init_params(seed=4)
    means = {name: bench.run_epoch(bench.make_trainer(name, params), batches)
             for name in bench.IMPLEMENTATIONS}
    for name in PEERS:
        assert math.isclose(means[name], means["layers_lib"], rel_tol=1e-4), (name, means)
    # the input gradients of all three batches, the 44-row one included
    errors = bench.compare_input_grads(bench.make_trainers(params), batches, steps=3)
    assert all(max(errors[name]) < 1e-5 for name in ("torch_dx", "fused_dx")), errors


def test_compare_losses_detects_a_disagreement(bench):
    X, y = bench.make_data(256, seed=5)
    batches = bench.Batches(X, y, batch_size=128)
    params = bench.init_params(seed=5)
    trainers = bench.make_trainers(params)
    trainers["fused"].W[2][:, 0] += np.float32(0.5)   # class 0 logit changed: another network
    with pytest.raises(AssertionError, match="fused"):
        bench.compare_losses(trainers, batches, steps=1)


def test_report_has_ratio_fields(bench, tmp_path):
    report = bench.benchmark(n_samples=512, batch_size=128, repeats=2, threads=1,
                             warmup_batches=1, check_steps=2)
    assert set(report["seconds_per_epoch"]) == set(bench.IMPLEMENTATIONS)
    assert report["config"]["implementations"] == list(bench.IMPLEMENTATIONS)
    assert all(len(report["runs"][name]) == 2 for name in bench.IMPLEMENTATIONS)
    assert all(t > 0 for t in report["seconds_per_epoch"].values())
    for kind in ("ratio", "ratio_best", "ratio_paired"):
        for other in PEERS:
            key = f"{kind}_layers_lib_vs_{other}"
            assert math.isfinite(report[key]) and report[key] > 0, key
    med, runs = report["seconds_per_epoch"], report["runs"]
    for other in PEERS:
        assert report[f"ratio_layers_lib_vs_{other}"] == pytest.approx(med["layers_lib"] / med[other])
        assert report[f"ratio_best_layers_lib_vs_{other}"] == pytest.approx(
            min(runs["layers_lib"]) / min(runs[other]))
        assert report[f"ratio_paired_layers_lib_vs_{other}"] == pytest.approx(
            np.median([a / b for a, b in zip(runs["layers_lib"], runs[other])]))
    # the correctness pre-check ran on every column and is in the report
    assert set(report["check_losses"]) == set(bench.IMPLEMENTATIONS)
    grad_errors = report["check_input_grad_errors"]
    assert set(grad_errors) == {"layers_lib", "torch_dx", "fused_dx"}
    assert all(len(e) == 2 and max(e) < 1e-5 for e in grad_errors.values()), grad_errors
    targets = report["targets"]
    assert targets["vs_torch_dx_max"] == 0.9 and targets["vs_fused_dx_max"] == 1.05
    assert targets["vs_torch_max"] == 0.8 and targets["vs_fused_max"] == 1.25
    for key in ("vs_torch_dx_met", "vs_fused_dx_met", "vs_torch_met", "vs_fused_met", "reliable"):
        assert isinstance(targets[key], bool), key
    assert targets["vs_fused_dx_met"] == (report["ratio_layers_lib_vs_fused_dx"] <= 1.05)
    assert targets["vs_torch_dx_met"] == (report["ratio_layers_lib_vs_torch_dx"] <= 0.9)
    env = report["environment"]
    assert env["threads"] == 1 and env["numpy"] == np.__version__ and env["torch"]
    assert "foreign_cpu_fraction" in env and "cpu" in env
    # the speed probe ran before every epoch and once after the last
    probes = env["speed_probe_seconds"]
    assert len(probes) == 2 * len(bench.IMPLEMENTATIONS) + 1 and all(p > 0 for p in probes)
    assert env["speed_probe_spread"] == pytest.approx(max(probes) / min(probes))
    steady_epochs = report["steady_epochs"]
    assert set(steady_epochs) == set(bench.IMPLEMENTATIONS)
    assert all(len(v) == 2 and all(isinstance(b, bool) for b in v) for v in steady_epochs.values())
    for other in PEERS:
        rounds = [r for r in range(2) if steady_epochs["layers_lib"][r] and steady_epochs[other][r]]
        assert report["steady_pairs"][other] == len(rounds)
        steady = report[f"ratio_steady_layers_lib_vs_{other}"]
        assert (steady is None) == (not rounds)
        if steady is not None:
            assert steady == pytest.approx(np.median(
                [runs["layers_lib"][r] / runs[other][r] for r in rounds]))
    assert report["config"]["batches_per_epoch"] == 4 and report["config"]["repeats"] == 2

    text = bench.format_report(report)
    for other in PEERS:
        assert f"layers_lib / {other} " in text
    assert "target <= 1.05" in text and "target <= 0.9" in text
    assert "same input gradient as layers_lib" in text
    for name in bench.IMPLEMENTATIONS:
        assert name in text
    # a busy machine flags every verdict as not evidence
    busy = json.loads(json.dumps(report))
    busy["environment"]["foreign_cpu_fraction"] = 0.5
    busy["targets"]["reliable"] = False
    busy_text = bench.format_report(busy)
    assert "WARNING: busy machine" in busy_text
    assert busy_text.count("not evidence") == 4
    # so does a machine whose speed drifted (invisible to /proc/stat on a shared host)
    drift = json.loads(json.dumps(report))
    drift["environment"]["foreign_cpu_fraction"] = 0.0
    drift["environment"]["speed_probe_spread"] = 1.8
    drift["targets"]["reliable"] = False
    drift_text = bench.format_report(drift)
    assert "speed drifted" in drift_text and drift_text.count("not evidence") == 4


def test_main_writes_json(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    bench.main(["--samples", "256", "--repeats", "1", "--threads", "1", "--quiet",
                "--json", str(out)])
    data = json.loads(out.read_text())
    for key in ("ratio_layers_lib_vs_torch", "ratio_layers_lib_vs_fused",
                "ratio_layers_lib_vs_torch_dx", "ratio_layers_lib_vs_fused_dx",
                "ratio_best_layers_lib_vs_torch_dx", "ratio_best_layers_lib_vs_fused_dx",
                "ratio_paired_layers_lib_vs_torch_dx", "ratio_paired_layers_lib_vs_fused_dx"):
        assert key in data and data[key] > 0, key
    assert set(data["seconds_per_epoch"]) == set(bench.IMPLEMENTATIONS)
    assert set(data["check_input_grad_errors"]) == {"layers_lib", "torch_dx", "fused_dx"}
    for key in ("vs_torch_dx_met", "vs_fused_dx_met", "reliable"):
        assert isinstance(data["targets"][key], bool), key
    text = capsys.readouterr().out
    assert "layers_lib / fused_dx" in text and "layers_lib / torch_dx" in text


def test_settle_and_probe(bench):
    waited = bench.settle_thread_pools(quantum=0.01, timeout=0.5)
    assert 0.01 <= waited < 1.0
    probe = bench.SpeedProbe(size=32, repeats=2)
    assert probe.spread() is None
    assert probe() > 0 and probe() > 0
    assert len(probe.seconds) == 2 and probe.spread() >= 1.0


def test_old_fused_input_grad_flag_still_accepted(bench, capsys):
    """--fused-input-grad made fused_dx optional; it is always measured now, the flag is a no-op."""
    report = bench.main(["--samples", "128", "--repeats", "1", "--threads", "1", "--quiet",
                         "--fused-input-grad"])
    assert set(report["seconds_per_epoch"]) == set(bench.IMPLEMENTATIONS)
