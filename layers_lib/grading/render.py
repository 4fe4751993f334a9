"""Plain-text and static-HTML renderings of :class:`Comparison` results, and a PNG heatmap encoder.

The HTML is static (inline CSS, no scripts) so it survives nbgrader feedback and nbconvert, where
widgets cannot run, and it is deterministic (same comparison, same bytes). Arrays are drawn as 2-D:
a scalar as 1x1, 1-D as one row, >2-D as (first axis) x (all other axes flattened).
"""
from __future__ import annotations

import base64
import html
import math
import struct
import zlib
from typing import Iterable

import numpy as np

from .. import i18n
from ..i18n import mark, tr
from .compare import Comparison

TABLE_MAX = 400       # up to this many elements: an HTML table, one <td> per element
CELL_TEXT_MAX = 64    # up to this many elements the table cells also show the numbers
GRID_MAX = 8          # text grids for tensors up to 8 x 8 (after taking 2-D)
PNG_MAX_SIDE = 512    # larger tensors are reduced block-wise (the largest |value| per block)
MISMATCH_RGB = (220, 0, 0)   # red is in neither colormap, so a marked cell is unambiguous
NAN_RGB, INF_RGB = (150, 150, 150), (0, 0, 0)
# Anchors of perceptually ordered maps: viridis (sequential) and purple-white-green (diverging).
_SEQUENTIAL = np.array([(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98),
                        (253, 231, 37)], dtype=np.float64)
_DIVERGING = np.array([(118, 42, 131), (194, 165, 207), (247, 247, 247), (166, 219, 160),
                       (27, 120, 55)], dtype=np.float64)
PANELS = (mark("expected"), mark("got"), mark("difference"))   # data-panel values (translated captions)
_FONT = "font-family:var(--jp-code-font-family,monospace);font-size:12px"


# ----------------------------------------------------------------------------- arrays & colours
def as_2d(a: np.ndarray) -> np.ndarray:
    """(…) -> (rows, cols): () -> (1, 1), (n,) -> (1, n), (a, b, …) -> (a, b*…); images
    (B, C, H, W) are tiled, one H x W tile per sample (row of tiles) and channel (column)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim == 4:
        batch, channels, height, width = a.shape
        return a.transpose(0, 2, 1, 3).reshape(batch * height, channels * width)
    return a.reshape(a.shape[0], math.prod(a.shape[1:]))  # explicit: -1 fails for empty arrays


def index_of_2d(row: int, col: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index in an array of `shape` of element (row, col) of its `as_2d` view."""
    if len(shape) == 4:
        height, width = shape[2], shape[3]
        return (row // height, col // width, row % height, col % width)
    columns = math.prod(shape[1:]) if len(shape) > 1 else max(math.prod(shape), 1)
    return tuple(int(i) for i in np.unravel_index(row * columns + col, shape)) if shape else ()


def _ramp(t: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """t in [0, 1] (any shape) -> uint8 RGB (…, 3) by piecewise-linear interpolation."""
    pos = np.clip(t, 0.0, 1.0) * (len(anchors) - 1)
    lo = np.minimum(pos.astype(int), len(anchors) - 2)
    frac = (pos - lo)[..., None]
    return np.round(anchors[lo] * (1 - frac) + anchors[lo + 1] * frac).astype(np.uint8)


def value_range(*arrays: np.ndarray) -> tuple[float, float]:
    """(min, max) over the finite values of all arrays; (0, 0) if there are none."""
    finite = [a[np.isfinite(a)] for a in arrays if a is not None and a.size]
    finite = [f for f in finite if f.size]
    if not finite:
        return 0.0, 0.0
    return min(float(f.min()) for f in finite), max(float(f.max()) for f in finite)


def colorize(values: np.ndarray, kind: str, vmin: float = 0.0, vmax: float = 0.0) -> np.ndarray:
    """Map values (any shape) to uint8 RGB (…, 3).

    ``kind="sequential"``: [vmin, vmax] onto viridis. ``kind="diverging"``: [-vmax, vmax] onto
    purple-white-green with 0 white (vmax = max |value| if 0). NaN is grey, ±Inf black.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    safe = np.where(finite, v, 0.0)
    if kind == "diverging":
        vmax = vmax or (float(np.abs(safe).max()) if v.size else 0.0)
        t = 0.5 + 0.5 * safe / vmax if vmax > 0 else np.full(v.shape, 0.5)
        rgb = _ramp(t, _DIVERGING)
    else:
        t = (safe - vmin) / (vmax - vmin) if vmax > vmin else np.full(v.shape, 0.5)
        rgb = _ramp(t, _SEQUENTIAL)
    rgb[np.isnan(v)] = NAN_RGB
    rgb[np.isinf(v)] = INF_RGB
    return rgb


# ----------------------------------------------------------------------------- PNG
def encode_png(rgb: np.ndarray) -> bytes:
    """Encode a uint8 (height, width, 3) image as an 8-bit RGB PNG (one IDAT chunk)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _reduce(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shrink a 2-D array to at most PNG_MAX_SIDE per side: keep each block's largest |value|
    (so outliers stay visible) and mark a block if any element in it is mismatched."""
    h, w = values.shape
    by, bx = math.ceil(h / PNG_MAX_SIDE), math.ceil(w / PNG_MAX_SIDE)
    if by == 1 and bx == 1:
        return values, mask
    ph, pw = -h % by, -w % bx
    v = np.pad(values, ((0, ph), (0, pw)), mode="edge")
    m = np.pad(mask, ((0, ph), (0, pw)))
    H, W = v.shape[0] // by, v.shape[1] // bx
    blocks = v.reshape(H, by, W, bx).transpose(0, 2, 1, 3).reshape(H, W, by * bx)
    key = np.where(np.isnan(blocks), -1.0, np.abs(blocks))
    picked = np.take_along_axis(blocks, key.argmax(axis=2)[..., None], axis=2)[..., 0]
    return picked, m.reshape(H, by, W, bx).any(axis=(1, 3))


def heatmap_png(values: np.ndarray, mismatch: np.ndarray | None = None, *,
                kind: str = "sequential", vmin: float = 0.0, vmax: float = 0.0) -> bytes:
    """PNG heatmap of a 2-D array (other ranks go through :func:`as_2d`).

    Nearest-neighbour upscaled to ~320 px on the long side (1..16 px per element); mismatched
    elements get a red 1-px outline (or are filled red when the cells are under 3 px).
    """
    v2 = as_2d(np.asarray(values, dtype=np.float64))
    m2 = np.zeros(v2.shape, bool) if mismatch is None else as_2d(np.asarray(mismatch, bool))
    v2, m2 = _reduce(v2, m2)
    h, w = v2.shape
    cx = max(1, min(16, 320 // max(h, w)))
    cy = max(cx, math.ceil(8 / h))  # a single row still gets a visible height
    img = np.repeat(np.repeat(colorize(v2, kind, vmin, vmax), cy, axis=0), cx, axis=1)
    big = np.repeat(np.repeat(m2, cy, axis=0), cx, axis=1)
    if min(cy, cx) >= 3:
        ly, lx = np.arange(h * cy) % cy, np.arange(w * cx) % cx
        big &= ((ly == 0) | (ly == cy - 1))[:, None] | ((lx == 0) | (lx == cx - 1))[None, :]
    img[big] = MISMATCH_RGB
    return encode_png(img)


# ----------------------------------------------------------------------------- text
def _num(x: float | None) -> str:
    return tr("n/a") if x is None else f"{x:.4g}"


def _idx(idx: Iterable[int] | None) -> str:
    return "[" + ", ".join(str(int(i)) for i in (idx or ())) + "]"


def _grid(values: np.ndarray, mismatch: np.ndarray | None) -> list[str]:
    v2 = as_2d(values)
    m2 = np.zeros(v2.shape, bool) if mismatch is None else as_2d(mismatch)
    return ["    " + " ".join(f"{f'{x:.4g}':>10}{'*' if bad else ' '}" for x, bad in zip(row, mrow))
            for row, mrow in zip(v2, m2)]


def _facts(c: Comparison) -> list[tuple[str, str]]:
    """(label, value) pairs shared by the text and HTML summaries."""
    facts = [(tr("shape"), tr("expected {expected_shape}, got {got_shape}",
                              expected_shape=c.expected_shape, got_shape=c.got_shape))]
    want = (tr("expected {expected_dtype}", expected_dtype=c.expected_dtype) if c.expected_dtype
            else tr("not checked"))
    facts.append(("dtype", tr("got {got_dtype} ({want})", got_dtype=c.got_dtype, want=want)))
    if c.mismatch is not None:
        facts += [(tr("mismatched"), tr("{n} of {total}", n=c.n_mismatched, total=c.n_total)),
                  (tr("max abs err"), _num(c.max_abs_err)), (tr("max rel err"), _num(c.max_rel_err)),
                  (tr("worst element"), tr("at {index}: expected {expected}, got {got} "
                                           "({ratio:.3g} x tolerance)", index=_idx(c.worst_index),
                                           expected=_num(c.worst_expected), got=_num(c.worst_got),
                                           ratio=c.max_ratio))]
    if c.atol_elementwise is not None:
        facts.append((tr("tolerance"), tr("|got - expected| <= atol + {rtol:.3g} * |expected|, atol "
                                          "per element from the magnitude of the terms ({atol:.3g} "
                                          "at the worst element)", rtol=c.rtol, atol=c.atol)))
    elif c.rtol is not None:
        facts.append((tr("tolerance"), f"|got - expected| <= {c.atol:.3g} + {c.rtol:.3g} * |expected|"))
    for count, where, label in ((c.nan_count, c.nan_positions, "NaN"),
                                (c.inf_count, c.inf_positions, "Inf")):
        if count:
            more = " …" if count > len(where) else ""
            facts.append((label, tr("{count} at {positions}", count=count,
                                    positions=", ".join(_idx(p) for p in where)) + more))
    if c.diagnosis:
        facts.append((tr("diagnosis"), c.diagnosis))
    return facts


def _small(a: np.ndarray | None) -> bool:
    return a is not None and max(as_2d(a).shape) <= GRID_MAX


def to_text(c: Comparison) -> str:
    """Multi-line plain-text report of one comparison."""
    lines = [f"{c.layer} {i18n.quantity(c.quantity)}: {tr('PASS') if c.ok else tr('FAIL')}", f"  {c.message}"]
    if c.got is None:
        return "\n".join(lines)
    lines += [f"  {label}: {value}" for label, value in _facts(c)]
    if _small(c.expected) and _small(c.got):
        lines += [f"  {tr('expected')}:", *_grid(c.expected, None)]
        lines += [f"  {tr('got (* = out of tolerance)')}:" if c.mismatch is not None
                  else f"  {tr('got')}:", *_grid(c.got, c.mismatch)]
    return "\n".join(lines)


def report_to_text(comparisons: Iterable[Comparison]) -> str:
    """All comparisons of a layer/class, then a one-line summary."""
    cs = list(comparisons)
    passed = sum(c.ok for c in cs)
    return "\n\n".join([*(to_text(c) for c in cs),
                        tr("{passed} of {total} checks passed", passed=passed, total=len(cs))])


# ----------------------------------------------------------------------------- HTML
def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _attr(x: float) -> str:
    return repr(float(x))  # exact round trip: '0.1', 'nan', 'inf'


def _text_color(rgb: np.ndarray) -> str:
    return "#fff" if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140 else "#000"


def _table(panel: str, shown: np.ndarray, rgb: np.ndarray, shape: tuple[int, ...],
           exp: np.ndarray | None, got: np.ndarray | None, mism: np.ndarray | None) -> str:
    """One <table class="gi-heatmap">; ``shown``/``rgb``/``exp``/``got``/``mism`` are 2-D."""
    text = shown.size <= CELL_TEXT_MAX
    names = {"expected": tr("expected"), "got": tr("got")}
    diff_word = tr("diff")
    rows = []
    for r in range(shown.shape[0]):
        cells = []
        for col in range(shown.shape[1]):
            bad = bool(mism is not None and mism[r, col])
            orig = index_of_2d(r, col, shape)
            attrs = f'data-row="{r}" data-col="{col}" data-index="{_idx(orig)}"'
            tip = [_idx(orig)]
            for name, arr in (("expected", exp), ("got", got)):
                if arr is not None:
                    attrs += f' data-{name}="{_attr(arr[r, col])}"'
                    tip.append(f"{names[name]} {arr[r, col]:.6g}")
            if exp is not None and got is not None:
                tip.append(f"{diff_word} {got[r, col] - exp[r, col]:.3g}")
            # per-cell style kept short: a 400-cell panel appears three times per report
            style = f"background:#{rgb[r, col, 0]:02x}{rgb[r, col, 1]:02x}{rgb[r, col, 2]:02x}"
            style += (f";color:{_text_color(rgb[r, col])};padding:1px 3px" if text
                      else ";width:12px;height:12px;padding:0")
            if bad:
                style += ";outline:2px solid #d00000;outline-offset:-2px"
            label = f"{shown[r, col]:.3g}" if text else ""
            cls = "gi-cell gi-mismatch" if bad else "gi-cell"
            cells.append(f'<td class="{cls}" {attrs} data-mismatch="{int(bad)}" '
                         f'title="{_e(" ".join(tip))}" style="{style}">{_e(label)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="gi-heatmap" data-panel="{_e(panel)}" style="border-collapse:separate;'
            f'border-spacing:1px;text-align:right;{_FONT}">' + "".join(rows) + "</table>")


def _panel(panel: str, values: np.ndarray, kind: str, vrange: tuple[float, float],
           c: Comparison, shape: tuple[int, ...], same_shape: bool) -> str:
    v2 = as_2d(values)
    mism = as_2d(c.mismatch) if same_shape and c.mismatch is not None else None
    vmin, vmax = vrange
    if values.size <= TABLE_MAX:
        exp = as_2d(c.expected) if same_shape or panel == "expected" else None
        got = as_2d(c.got) if same_shape or panel == "got" else None
        body = _table(panel, v2, colorize(v2, kind, vmin, vmax), shape, exp, got, mism)
    else:
        png = base64.b64encode(heatmap_png(v2, mism, kind=kind, vmin=vmin, vmax=vmax)).decode()
        alt = tr("{panel} heatmap {rows}x{cols}", panel=tr(panel), rows=v2.shape[0], cols=v2.shape[1])
        body = (f'<img class="gi-heatmap-png" data-panel="{_e(panel)}" alt="{_e(alt)}" '
                f'style="image-rendering:pixelated" src="data:image/png;base64,{png}">')
    scale = f"{vmin:.3g} … {vmax:.3g}" if kind == "sequential" else f"±{vmax:.3g}"
    return (f'<figure class="gi-panel" data-panel="{_e(panel)}" style="margin:0">'
            f'<figcaption style="{_FONT};color:#555">{_e(tr(panel))} ({_e(scale)})</figcaption>'
            f"{body}</figure>")


def to_html(c: Comparison, anchor: str | None = None) -> str:
    """Static HTML report of one comparison: summary plus expected / got / difference heatmaps."""
    status = c.status
    colour = "#1a7f37" if c.ok else "#cf222e"
    ident = f' id="{_e(anchor)}"' if anchor else ""
    facts = "".join(f'<tr><th style="text-align:left;padding-right:8px">{_e(k)}</th>'
                    f"<td>{_e(v)}</td></tr>" for k, v in (_facts(c) if c.got is not None else []))
    parts = [f'<div class="gi-report"{ident} data-layer="{_e(c.layer)}" '
             f'data-quantity="{_e(c.quantity)}" data-status="{_e(status)}" style="border:1px solid '
             f'#d0d7de;border-left:4px solid {colour};padding:6px 10px;margin:6px 0">',
             f'<div class="gi-summary"><div class="gi-title"><b>{_e(c.layer)} {_e(i18n.quantity(c.quantity))}</b>'
             f' <span class="gi-badge" style="background:{colour};color:#fff;padding:0 6px;'
             f'border-radius:3px">{_e(tr(status.upper()))}</span></div>',
             f'<div class="gi-message">{_e(c.message)}</div>',
             f'<table class="gi-facts" style="{_FONT}">{facts}</table></div>' if facts else
             "</div>"]
    if c.got is not None and c.expected is not None:
        same = c.got.shape == c.expected.shape
        vrange = value_range(c.expected, c.got)
        panels = [_panel("expected", c.expected, "sequential", vrange, c, c.expected.shape, same),
                  _panel("got", c.got, "sequential", vrange, c, c.got.shape, same)]
        if same:
            with np.errstate(invalid="ignore", over="ignore"):
                diff = c.got - c.expected
            dmax = float(np.abs(diff[np.isfinite(diff)]).max()) if np.isfinite(diff).any() else 0.
            panels.append(_panel("difference", diff, "diverging", (0.0, dmax), c,
                                 c.expected.shape, same))
        parts.append('<div class="gi-panels" style="display:flex;gap:12px;flex-wrap:wrap;'
                     'align-items:flex-start;margin-top:6px">' + "".join(panels) + "</div>")
    return "".join(parts) + "</div>"


def report_to_html(comparisons: Iterable[Comparison]) -> str:
    """A summary table linking to one :func:`to_html` block per comparison."""
    cs = list(comparisons)
    passed = sum(c.ok for c in cs)
    rows = "".join(
        f'<tr data-status="{_e(c.status)}"><td><a href="#gi-check-{i}">{_e(c.layer)} '
        f'{_e(i18n.quantity(c.quantity))}</a></td><td style="color:{"#1a7f37" if c.ok else "#cf222e"}">'
        f"{_e(tr(c.status.upper()))}</td><td>{_e(c.message)}</td></tr>" for i, c in enumerate(cs))
    status = "pass" if passed == len(cs) else "fail"
    return (f'<div class="gi-report-list" data-status="{status}" data-passed="{passed}" '
            f'data-total="{len(cs)}"><div class="gi-report-summary">'
            f'{_e(tr("{passed} of {total} checks passed", passed=passed, total=len(cs)))}</div>'
            f'<table class="gi-report-index" style="{_FONT}">{rows}</table>'
            + "".join(to_html(c, anchor=f"gi-check-{i}") for i, c in enumerate(cs)) + "</div>")
