"""Tests of the comparison engine (layers_lib.grading: compare, diagnose, render)."""
import base64
import json
import re
import struct
import zlib
from html.parser import HTMLParser

import numpy as np
import pytest

from layers_lib.grading import diagnose as dg
from layers_lib.grading.compare import compare, tolerance_for
from layers_lib.grading.render import (TABLE_MAX, encode_png, heatmap_png, report_to_html,
                                       report_to_text, to_html, to_text)

F32, F64 = np.float32, np.float64


# ----------------------------------------------------------------- float32 / float64 computations
def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(x):
    s = x - x.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def batchnorm(x, g, eps=1e-3):
    """Forward and backward of the batch norm without affine part; returns (y, grad_x, 1/std)."""
    c = x - x.mean(axis=0)
    inv = 1 / np.sqrt((c * c).mean(axis=0) + x.dtype.type(eps))
    y = c * inv
    gx = inv / len(x) * (len(x) * g - g.sum(axis=0) - y * (g * y).sum(axis=0))
    return y, gx, inv


def both(fn, *arrays32):
    """fn on the float32 arrays and on the same values in float64: (float64 result, float32 one)."""
    return fn(*(a.astype(F64) for a in arrays32)), fn(*arrays32)


def assert_passes(exp, got, worst, key, **kw):
    c = compare(exp, got, layer="L", quantity="output", dtype=got.dtype, **kw)
    assert c.ok, c.message
    worst[key] = max(worst.get(key, 0.0), c.max_ratio)


def test_tolerance_table():
    assert tolerance_for(F32) == (1e-4, 1e-4)
    assert tolerance_for(F64) == (1e-8, 1e-8)
    assert tolerance_for(np.float16) == (1e-2, 1e-2)
    assert tolerance_for(np.int64) == tolerance_for(F64)
    with pytest.raises(TypeError):
        tolerance_for(np.complex128)


def test_float32_matches_float64_reference_over_many_seeds():
    """A correct float32 computation never fails by rounding, with a wide margin (ratio << 1)."""
    worst = {}
    for seed in range(60):
        rng = np.random.default_rng(seed)
        batch = int(rng.choice([2, 3, 32, 128]))
        x = (rng.normal(size=(batch, 500)) * 10 ** rng.uniform(-2, 1)).astype(F32)
        w = rng.uniform(-1, 1, size=(500, 40)).astype(F32)
        g = rng.normal(size=(batch, 500)).astype(F32)
        assert_passes(*both(lambda a, b: a @ b, x, w), worst, "matmul 500 terms")
        assert_passes(*both(lambda a, b: a.T @ b, x, g), worst, "grad_W")
        assert_passes(*both(softmax, x), worst, "softmax")
        assert_passes(*both(log_softmax, x), worst, "log_softmax")
        # the softmax gradient of a near one-hot row cancels to ~eps; its terms are ~max|g|
        assert_passes(*both(lambda a, b: softmax(a) * (b - (b * softmax(a)).sum(1, keepdims=True)),
                            x, g), worst, "softmax grad", scale=np.abs(g).max())
        (y, gx, inv), (y32, gx32, _) = both(batchnorm, x + F32(rng.normal()), g)
        assert_passes(y, y32, worst, "batchnorm")
        assert_passes(gx, gx32, worst, "batchnorm grad", scale=inv.max() * np.abs(g).max())
        ce = -(log_softmax(x.astype(F64))[:, :10]).sum() / batch
        assert_passes(np.float64(ce), -(log_softmax(x)[:, :10]).sum() / F32(batch), worst, "loss")
    assert max(worst.values()) < 0.5, worst


def test_values_spanning_many_magnitudes():
    rng = np.random.default_rng(1)
    x = (rng.choice([-1, 1], 300) * 10 ** rng.uniform(-30, 4, 300)).astype(F32)
    exp, got = both(lambda a: a * np.exp(a.dtype.type(0.3)) / a.dtype.type(7), x)
    c = compare(exp, got, layer="Scale", quantity="output", dtype=F32)
    assert c.ok, c.message
    got_bad = got.copy()
    got_bad[np.argmax(np.abs(x))] *= F32(1.01)  # a 1% error on the largest element is caught
    assert not compare(exp, got_bad, layer="Scale", quantity="output").ok


def test_scale_allows_the_rounding_noise_of_a_cancelled_result():
    """A constant grad_output cancels the batch-norm gradient to ~0: float32 keeps noise ~eps*terms."""
    rng = np.random.default_rng(2)
    x, g = rng.normal(size=(16, 8)).astype(F32), np.full((16, 8), 3, F32)
    (_, gx, inv), (_, gx32, _) = both(batchnorm, x, g)
    assert not compare(gx, gx32, layer="BN", quantity="grad_input").ok  # default scale: max|exp|
    c = compare(gx, gx32, layer="BN", quantity="grad_input", scale=inv.max() * 3)
    assert c.ok, c.message


def test_elementwise_scale():
    """Per-element term magnitudes: strict where the terms are small, the tensor scale elsewhere."""
    exp, mag = np.array([1e3, 1e-3, 0.0]), np.array([1e3, 1e-3, 0.0])
    wrong_small = np.array([1e3, 2e-3, 0.0], F32)
    assert compare(exp, wrong_small, layer="L", quantity="output").ok  # hidden by max|expected|
    c = compare(exp, wrong_small, layer="L", quantity="output", scale=mag)
    assert not c.ok and c.worst_index == (1,) and c.atol == pytest.approx(1e-4 * 1e3 * 1e-3)
    assert c.atol_elementwise.shape == (3,) and c.to_dict()["atol_elementwise"] is True
    assert "per element" in to_text(c)
    # a zero magnitude still allows the largest element's own rounding (floor 1e-3 max|expected|)
    assert compare(exp, np.array([1e3, 1e-3, 1e-5], F32), layer="L", quantity="output", scale=mag).ok
    assert not compare(exp, np.array([1e3, 1e-3, 1e-3], F32), layer="L", quantity="output",
                       scale=mag).ok
    assert "sign is flipped" in compare(exp[:2], -exp[:2], layer="L", quantity="output",
                                        scale=mag[:2]).diagnosis
    with pytest.raises(ValueError):
        compare(exp, exp, layer="L", quantity="output", scale=np.ones(2))


def test_float64_tolerance_catches_float32_intermediates():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(8, 300)), rng.normal(size=(300, 5))
    sloppy = (x.astype(F32) @ w.astype(F32)).astype(F64)
    assert not compare(x @ w, sloppy, layer="Linear", quantity="output", dtype=F64).ok


def test_explicit_tolerances_override():
    c = compare(np.ones(3), np.full(3, 1.01), layer="L", quantity="output", rtol=0.02, atol=0.0)
    assert c.ok and c.rtol == 0.02 and c.atol == 0.0


# ----------------------------------------------------------------- structural failures
class Spy:
    """Records every attribute access and special-method call; compare must trigger none."""
    calls = []

    def __getattribute__(self, name):
        Spy.calls.append(name)
        return object.__getattribute__(self, name)

    def _record(name):
        def method(self, *args, **kwargs):
            Spy.calls.append(name)
            return True
        return method

    for _name in ("__eq__", "__ne__", "__array__", "__array_function__", "__array_ufunc__",
                  "__float__", "__len__", "__iter__", "__getitem__", "__bool__", "__index__",
                  "__int__", "__hash__"):
        locals()[_name] = _record(_name)
    __array_interface__ = property(_record("__array_interface__"))
    shape = property(_record("shape"))
    dtype = property(_record("dtype"))


class SpyArray(np.ndarray):
    def __getattribute__(self, name):
        Spy.calls.append(name)
        return super().__getattribute__(name)

    def __eq__(self, other):
        Spy.calls.append("__eq__")
        return True

    def __array_function__(self, *args, **kwargs):
        Spy.calls.append("__array_function__")
        return NotImplemented


class FloatSubclass(float):
    def __float__(self):
        Spy.calls.append("__float__")
        return 0.0


def object_array(*items):
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out.reshape(1, -1).repeat(2, axis=0)


@pytest.mark.parametrize("make", [
    lambda: [[1.0, 2.0], [3.0, 4.0]], lambda: ((1.0, 2.0), (3.0, 4.0)), Spy,
    lambda: np.ones((2, 2)).view(SpyArray), lambda: np.ma.masked_array(np.ones((2, 2))),
    lambda: object_array(Spy(), Spy()),
    lambda: np.ones((2, 2), dtype=complex)])
def test_non_ndarray_values_are_rejected_untouched(make):
    got = make()
    Spy.calls.clear()
    c = compare(np.ones((2, 2)), got, layer="Linear", quantity="output")
    assert not c.ok and c.failure == "type" and c.got is None
    assert Spy.calls == []
    assert c.message.startswith("Linear output: update_output returned a")


def test_torch_tensor_and_list_messages():
    import torch
    c = compare(np.ones(2), torch.ones(2), layer="ReLU", quantity="grad_input")
    assert "torch.Tensor" in c.message and "numpy arrays" in c.message
    assert "build it with numpy" in compare(np.ones(2), [1, 1], layer="R", quantity="output").message


@pytest.mark.parametrize("quantity, text", [
    ("output", "update_output returned None — did you forget `return self.output`?"),
    ("grad_input", "update_grad_input returned None — did you forget `return self.grad_input`?"),
    ("grad_W", "self.grad_W is None — did you set it in update_grad_params?"),
    ("moving_mean", "self.moving_mean is None"), ("loss", "`return self.output`"),
    # a hidden check's quantity carries its setting: the message still names the attribute
    ("grad_W (float32, batch 5, 3->4)", "self.grad_W is None — did you set it in update_grad_params?"),
    ("output (float64, shape (3, 7), |x| <= 10)", "update_output returned None")])
def test_none_messages(quantity, text):
    c = compare(np.ones(3), None, layer="Linear", quantity=quantity)
    assert not c.ok and c.failure == "none" and text in c.message


@pytest.mark.parametrize("got, ok", [
    (2.5, True), (F32(2.5), True), (F64(2.5), True), (np.array(2.5), True), (2, False),
    (FloatSubclass(2.5), False), ([2.5], False), (np.array([2.5]), False), (Spy(), False)])
def test_scalar_quantities(got, ok):
    Spy.calls.clear()
    c = compare(np.float64(2.5), got, layer="NLLCriterion", quantity="loss")
    assert c.ok == ok, c.message
    assert Spy.calls == []
    if isinstance(got, np.ndarray) and got.shape == (1,):
        assert c.failure == "shape" and "shape (1,), expected ()" in c.message


def test_scalar_dtype_is_checked():
    c = compare(np.float64(2.5), 2.5, layer="NLL", quantity="loss", dtype=F32)
    assert c.failure == "dtype" and "dtype float64, expected float32" in c.message
    assert compare(np.float64(2.5), F32(2.5), layer="NLL", quantity="loss", dtype=F32).ok


@pytest.mark.parametrize("got_shape, hint", [
    ((4, 3), "transposed?"), ((3, 4, 1), "axis of size 1"), ((2, 6), "wrong reshape"),
    ((3,), "reduced over an axis"), ((5, 5), "")])
def test_shape_mismatch(got_shape, hint):
    c = compare(np.ones((3, 4)), np.ones(got_shape), layer="Linear", quantity="grad_W")
    assert not c.ok and c.failure == "shape" and c.mismatch is None
    assert f"shape {got_shape}, expected (3, 4)" in c.message and hint in c.message
    assert c.got.shape == got_shape  # kept for the widgets


def test_dtype_mismatch_names_both_dtypes_and_judges_values_at_the_input_precision():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 300)).astype(F32)
    exp = x.astype(F64) @ x.T.astype(F64)
    c = compare(exp, (x @ x.T).astype(F64), layer="Linear", quantity="output", dtype=F32)
    assert c.failure == "dtype" and not c.ok and c.n_mismatched == 0
    assert "dtype float64, expected float32" in c.message and "within tolerance" in c.message
    assert c.rtol == 1e-4  # float32 accuracy is all a float32 input allows


# ----------------------------------------------------------------- NaN / Inf
def test_nan_and_inf_are_mismatches_with_positions():
    exp = np.arange(30.0).reshape(3, 10)
    got = exp.copy()
    got[1, 2], got[2, 5], got[0, 0] = np.nan, np.inf, -np.inf
    c = compare(exp, got, layer="SoftMax", quantity="output")
    assert not c.ok and c.n_mismatched == 3
    assert (c.nan_count, c.inf_count) == (1, 2)
    assert c.nan_positions == [(1, 2)] and c.inf_positions == [(0, 0), (2, 5)]
    assert c.worst_index in [(1, 2), (2, 5), (0, 0)] and c.diagnosis == dg.NONFINITE
    assert "1 NaN and 2 Inf" in c.message
    big = np.full((10, 10), np.nan)
    assert len(compare(np.ones((10, 10)), big, layer="S", quantity="output").nan_positions) == 20


def test_matching_non_finite_values_agree():
    exp = np.array([1.0, np.inf, np.nan])
    assert compare(exp, exp.copy(), layer="L", quantity="output").ok
    assert not compare(exp, np.array([1.0, -np.inf, np.nan]), layer="L", quantity="output").ok


def test_to_dict_is_strict_json():
    got = np.array([1.0, np.nan, 3.0])
    d = compare(np.ones(3), got, layer="L", quantity="grad_b").to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["worst_got"] == "nan" and d["worst_index"] == [1] and "message" in json.loads(text)


# ----------------------------------------------------------------- diagnoses
def _diag(exp, got, **kw):
    c = compare(exp, got, layer="L", quantity="grad_W", **kw)
    assert not c.ok
    return c.diagnosis


@pytest.fixture
def mat():
    return np.random.default_rng(5).normal(size=(6, 6))


def test_transposed_square(mat):
    assert "transposed" in _diag(mat, mat.T.copy())


@pytest.mark.parametrize("k, batch, text", [
    (-1.0, None, "sign is flipped"), (32.0, 32, "factor of 32 = the batch size"),
    (1 / 32, 32, "1/32 = 1/the batch size"), (2.0, None, "factor of 2"),
    (0.5, None, "factor of 0.5"), (3.7, None, "constant factor of 3.7")])
def test_constant_factors(mat, k, batch, text):
    assert text in _diag(mat, k * mat, batch_size=batch)


def test_factors_of_float32_results():
    rng = np.random.default_rng(9)
    x, w = rng.normal(size=(32, 300)).astype(F32), rng.normal(size=(300, 7)).astype(F32)
    exp = x.astype(F64).T @ w.astype(F64)[:32]  # a grad_W-like sum over the batch
    assert "sign is flipped" in _diag(exp, -(x.T @ w[:32]), dtype=F32)
    assert "= the batch size" in _diag(exp / 32, x.T @ w[:32], dtype=F32, batch_size=32)


def test_scalar_loss_factors():
    assert "batch size" in _diag(np.float64(0.7), 0.7 * 64, batch_size=64)
    assert _diag(np.float64(0.7), 1.3) is None  # one number fits any factor: no generic k


def test_hypotheses_first_match_wins_and_explain_shape_errors():
    x = np.random.default_rng(6).normal(size=(4, 5))
    exp, wrong_axis = softmax(x), softmax(x.T).T
    hyps = {"softmax over axis 0 instead of axis 1": wrong_axis, "duplicate": wrong_axis}
    assert _diag(exp, wrong_axis, hypotheses=hyps) == "looks like: softmax over axis 0 instead of axis 1"
    c = compare(x.mean(0), x.mean(1), layer="BN", quantity="moving_mean",
                hypotheses={"mean over the features (axis 1)": x.mean(1)})
    assert c.failure == "shape" and "mean over the features" in c.diagnosis


def test_stability_and_nonfinite(mat):
    assert _diag(mat, mat + 1, small_input_ok=True) == dg.STABILITY
    bad = mat.copy()
    bad[0, 0] = np.inf
    assert _diag(mat, bad) == dg.NONFINITE
    assert _diag(mat, bad, small_input_ok=True) == dg.STABILITY


def test_convention_with_numerical_gradient():
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -2.0]])
    torch_grad = (x > 0).astype(F64)          # PyTorch: gradient 0 at the kink
    student = (x >= 0).astype(F64)            # a different convention at x = 0
    one_sided = np.where(x >= 0, 1.0, 0.0)   # a numerical gradient that sees the right side
    assert _diag(torch_grad, student, numeric=one_sided) == dg.CONVENTION
    central = np.where(x == 0, 0.5, torch_grad)  # central differences average both sides
    assert _diag(torch_grad, student, numeric=central) == dg.KINK
    assert _diag(torch_grad, student * 3, numeric=central) != dg.KINK  # wrong away from the kink


def test_all_zeros(mat):
    assert "all zeros" in _diag(mat, np.zeros_like(mat))


@pytest.mark.parametrize("seed", range(40))
def test_random_wrong_values_get_no_diagnosis(seed):
    rng = np.random.default_rng(seed)
    shape = [(5, 5), (7, 3), (32,), (2, 2), (3, 4, 2)][seed % 5]
    exp, got = rng.normal(size=shape), rng.normal(size=shape)
    numeric = exp + rng.normal(size=shape) * 1e-7
    assert _diag(exp, got, batch_size=32, numeric=numeric,
                 hypotheses={"irrelevant": rng.normal(size=shape)}) is None
    # a nearly-right float32 result that misses the tolerance is not a "factor of 1.0003"
    assert _diag(exp, exp * (1 + rng.uniform(-1, 1, shape) * 3e-4), dtype=F32) is None


# ----------------------------------------------------------------- rendering
class Cells(HTMLParser):
    """Collects the root's attributes and every <td> / <img> of the heatmaps, per panel."""

    def __init__(self):
        super().__init__()
        self.root, self.panel, self.cells, self.imgs = None, None, {}, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.root is None:
            self.root = a
        if tag == "table" and a.get("class") == "gi-heatmap":
            self.panel = a["data-panel"]
            self.cells[self.panel] = []
        elif tag == "td" and "gi-cell" in a.get("class", ""):
            self.cells[self.panel].append(a)
        elif tag == "img":
            self.imgs[a["data-panel"]] = a


def parse(html_text):
    p = Cells()
    p.feed(html_text)
    return p


def test_html_marks_exactly_the_mismatched_cells():
    rng = np.random.default_rng(7)
    exp = rng.normal(size=(5, 7))
    got = exp.copy()
    got[1, 3] *= -1
    got[4, 0] = np.nan
    c = compare(exp, got, layer="Linear", quantity="grad_W")
    p = parse(to_html(c))
    assert p.root["class"] == "gi-report" and p.root["data-status"] == "fail"
    assert (p.root["data-layer"], p.root["data-quantity"]) == ("Linear", "grad_W")
    assert set(p.cells) == {"expected", "got", "difference"}
    for cells in p.cells.values():
        assert len(cells) == 35
        marked = {(int(a["data-row"]), int(a["data-col"])) for a in cells if a["data-mismatch"] == "1"}
        assert marked == {(1, 3), (4, 0)}
        assert all(("gi-mismatch" in a["class"]) == (a["data-mismatch"] == "1") for a in cells)
        assert all(float(a["data-expected"]) == exp[int(a["data-row"]), int(a["data-col"])]
                   for a in cells) and "title" in cells[0]
    assert to_html(c) == to_html(c)  # deterministic


def test_html_escapes_text_and_reshapes_ranks():
    c = compare(np.ones((2, 3, 2)), np.ones((2, 3, 2)), layer='<script>"x"', quantity="output")
    out = to_html(c)
    assert "<script>" not in out and "&lt;script&gt;" in out
    p = parse(out)
    assert p.root["data-status"] == "pass" and len(p.cells["got"]) == 12
    assert {int(a["data-row"]) for a in p.cells["got"]} == {0, 1}
    assert p.cells["got"][-1]["data-index"] == "[1, 2, 1]"
    one_d = parse(to_html(compare(np.ones(5), np.zeros(5), layer="L", quantity="grad_b")))
    assert {a["data-row"] for a in one_d.cells["got"]} == {"0"}
    shape_fail = parse(to_html(compare(np.ones((2, 3)), np.ones((3, 2)), layer="L", quantity="W")))
    assert set(shape_fail.cells) == {"expected", "got"}
    assert parse(to_html(compare(np.ones(2), None, layer="L", quantity="output"))).cells == {}


def decode_png(data):
    """(width, height, rgb array) from our PNGs: checks the signature, chunk CRCs and IDAT."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,), tag = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == \
            zlib.crc32(tag + body) & 0xFFFFFFFF
        chunks[tag] = body
        pos += 12 + length
    w, h, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and b"IEND" in chunks
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + 3 * w)
    assert not raw[:, 0].any()  # filter type 0 on every row
    return w, h, raw[:, 1:].reshape(h, w, 3)


def test_png_for_large_tensors_marks_mismatches():
    rng = np.random.default_rng(8)
    exp = rng.normal(size=(30, 20))
    got = exp.copy()
    got[10, 5] += 1
    c = compare(exp, got, layer="Linear", quantity="grad_W")
    assert exp.size > TABLE_MAX
    p = parse(to_html(c))
    assert p.cells == {} and set(p.imgs) == {"expected", "got", "difference"}
    src = p.imgs["difference"]["src"]
    w, h, rgb = decode_png(base64.b64decode(src.split(",", 1)[1]))
    cell = 320 // 30
    assert (w, h) == (20 * cell, 30 * cell)
    red = np.all(rgb == (220, 0, 0), axis=2)
    assert red[10 * cell, 5 * cell] and red[11 * cell - 1, 6 * cell - 1]  # the outlined cell
    assert red.sum() == 4 * (cell - 1)  # and nothing else
    assert not red[10 * cell + cell // 2, 5 * cell + cell // 2]  # the inside keeps its colour


def test_png_encoder_and_large_arrays_are_reduced():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert decode_png(encode_png(rgb))[0:2] == (3, 2)
    assert np.array_equal(decode_png(encode_png(rgb))[2], rgb)
    w, h, _ = decode_png(heatmap_png(np.linspace(0, 1, 2000)))
    assert (w, h) == (500, 8)  # one row, blocks of 4 elements, still 8 px high
    assert heatmap_png(np.eye(3)) == heatmap_png(np.eye(3))


def test_text_report_grid_and_summary():
    exp = np.arange(6.0).reshape(2, 3)
    got = exp.copy()
    got[0, 1] = 9
    c = compare(exp, got, layer="ReLU", quantity="output", dtype=F64)
    text = to_text(c)
    assert text.splitlines()[0] == "ReLU output: FAIL"
    assert "worst element: at [0, 1]: expected 1, got 9" in text and "dtype: got float64" in text
    grid = text.split("got (* = out of tolerance):\n")[1].splitlines()
    assert sum(line.count("*") for line in grid) == 1 and "9*" in grid[0]
    assert "got (*" not in to_text(compare(np.ones((9, 9)), np.zeros((9, 9)), layer="L",
                                            quantity="output"))
    report = report_to_text([c, compare(exp, exp, layer="ReLU", quantity="grad_input")])
    assert report.endswith("1 of 2 checks passed") and "ReLU grad_input: PASS" in report
    many = report_to_html([c, compare(exp, exp, layer="ReLU", quantity="grad_input")])
    assert many.count('class="gi-report"') == 2 and 'data-passed="1"' in many
    assert re.search(r'id="gi-check-1"', many)
