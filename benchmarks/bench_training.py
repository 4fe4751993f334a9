#!/usr/bin/env python
"""One training epoch of an MLP in five implementations, timed side by side.

Network: 784 -> 256 -> ReLU -> 128 -> ReLU -> 10 -> LogSoftMax, NLL loss, float32,
batch 128, SGD with momentum (lr 0.01, momentum 0.9), on 60,000 generated samples
(seeded Gaussian class clusters).

  layers_lib  the course's reference NumPy framework (Sequential/Linear/ReLU/LogSoftMax,
              NLLCriterion, sgd_momentum), driven the way the training notebook drives it.
              Its contract makes Sequential.backward return dL/dinput, so every step also
              computes the first layer's input gradient, a (B, 784) matrix product
  torch       the same network in PyTorch on the CPU (nn.Sequential, NLLLoss, optim.SGD);
              the input does not require grad, so autograd skips the input gradient
  torch_dx    torch with the input batch requires_grad_(True): autograd also computes the
              input gradient, the same work as layers_lib
  fused       a hand-written NumPy loop: preallocated buffers, np.dot(out=...), fused
              log-softmax + NLL gradient (softmax - onehot) / B, in-place momentum update;
              no input gradient
  fused_dx    the fused loop also computing the input gradient (grad_out @ W1.T into a
              preallocated buffer), the same work as layers_lib

The like-with-like targets compare layers_lib with torch_dx and fused_dx; torch and fused are
kept for continuity with earlier figures. All start from the same weights and see the same
batches in the same order; before timing, the script checks that they compute the same loss on
the first batch (and after a few steps) and that layers_lib, torch_dx and fused_dx compute the
same input gradient. Epochs are run alternately (A, B, C, D, E, A, B, ...) and the median is
reported, with every implementation limited to the same number of threads.

    .venv/bin/python benchmarks/bench_training.py [--repeats 5] [--threads N] [--json out.json]
"""
import argparse
import os
import sys

_DEFAULT_THREADS = os.cpu_count() or 1


def _early_threads(argv):
    """The --threads value, read before NumPy is imported (for the environment-variable fallback)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(_DEFAULT_THREADS)


try:
    import threadpoolctl
except ImportError:     # fall back to the environment: must be set before NumPy loads its BLAS
    threadpoolctl = None
    if __name__ == "__main__":
        for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[_var] = _early_threads(sys.argv[1:])

import gc                    # noqa: E402
import json                  # noqa: E402
import platform              # noqa: E402
import statistics            # noqa: E402
import time                  # noqa: E402
from contextlib import contextmanager, nullcontext   # noqa: E402

import numpy as np           # noqa: E402

import layers_lib.reference as layers_lib  # noqa: E402

SIZES = (784, 256, 128, 10)
N_CLASSES = SIZES[-1]
DTYPE = np.float32
# The like-with-like columns: torch and the fused loop also computing dL/dinput of the first
# layer, a (B, 784) GEMM as large as the first layer's forward, which "torch" and "fused" skip
# but layers_lib must do (Sequential.backward returns the gradient w.r.t. its input).
TORCH_DX = "torch_dx"
FUSED_DX = "fused_dx"
IMPLEMENTATIONS = ("layers_lib", "torch", TORCH_DX, "fused", FUSED_DX)
TORCH_NAMES = ("torch", TORCH_DX)          # take torch tensors, the others NumPy arrays
INPUT_GRAD_NAMES = ("layers_lib", TORCH_DX, FUSED_DX)    # compute dL/dinput
# issue 11 item 5: layers_lib time / time of the peer doing the same work, at most
TARGET_VS_TORCH_DX = 0.9
TARGET_VS_FUSED_DX = 1.05
# the earlier targets, against peers that skip the input gradient (kept for continuity)
TARGET_VS_TORCH = 0.8
TARGET_VS_FUSED = 1.25
BUSY_WARNING = 0.10          # warn when other processes used more than this share of the CPUs
SPEED_WARNING = 1.20         # warn when the slowest CPU-speed probe took this much the fastest
STEADY = 1.10                # an epoch is steady when the probes before and after it are within
                             # this factor of the fastest probe of the run


# --------------------------------------------------------------------------- data and weights

def make_data(n_samples=60_000, n_features=SIZES[0], n_classes=N_CLASSES, seed=0):
    """Seeded Gaussian class clusters: X (n, n_features) float32, y (n,) int64 labels.

    Each class has a random centre; samples are centre + unit Gaussian noise.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_classes, n_features), dtype=DTYPE) * DTYPE(0.5)
    y = rng.integers(0, n_classes, size=n_samples, dtype=np.int64)
    X = rng.standard_normal((n_samples, n_features), dtype=DTYPE)
    X += centres[y]
    return X, y


def one_hot(y, n_classes=N_CLASSES, dtype=DTYPE):
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def init_params(sizes=SIZES, seed=0):
    """[(W (n_in, n_out), b (n_out,)), ...] float32, uniform in +-1/sqrt(n_in) like PyTorch."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(n_in)
        params.append((rng.uniform(-bound, bound, (n_in, n_out)).astype(DTYPE),
                       rng.uniform(-bound, bound, n_out).astype(DTYPE)))
    return params


def batch_slices(n_samples, batch_size):
    return [slice(start, min(start + batch_size, n_samples))
            for start in range(0, n_samples, batch_size)]


# --------------------------------------------------------------------------- implementations

class LayersLibTrainer:
    """layers_lib, used as in the course's training loop."""

    name = "layers_lib"

    def __init__(self, params, lr=0.01, momentum=0.9):
        self.model = layers_lib.Sequential()
        for k, (W, b) in enumerate(params):
            linear = layers_lib.Linear(W.shape[0], W.shape[1], dtype=DTYPE)
            linear.W[...] = W
            linear.b[...] = b
            self.model.add(linear)
            self.model.add(layers_lib.ReLU() if k < len(params) - 1 else layers_lib.LogSoftMax())
        self.criterion = layers_lib.NLLCriterion()
        self.config = {"learning_rate": lr, "momentum": momentum}
        self.state = {}

    def step(self, xb, yb, tb):
        """One SGD step on inputs xb, labels yb (unused) and one-hot targets tb; returns the loss."""
        model, criterion = self.model, self.criterion
        model.zero_grad_params()
        out = model.forward(xb)
        loss = criterion.forward(out, tb)
        grad = criterion.backward(out, tb)
        model.backward(xb, grad)
        layers_lib.sgd_momentum(model.get_params(), model.get_grad_params(), self.config, self.state)
        return float(loss)

    def loss(self, xb, yb, tb):
        return float(self.criterion.forward(self.model.forward(xb), tb))

    def input_grad(self):
        """dL/dinput of the last step (B, 784), as a NumPy array."""
        return self.model.grad_input

    def params(self):
        return [(m.W, m.b) for m in self.model.modules if isinstance(m, layers_lib.Linear)]


class TorchTrainer:
    """The same network in PyTorch on the CPU.

    input_grad=True marks each input batch requires_grad_(True), so autograd also computes
    dL/dX of the first layer (the "torch_dx" column)."""

    name = "torch"

    def __init__(self, params, lr=0.01, momentum=0.9, input_grad=False):
        import torch
        from torch import nn
        self.torch = torch
        self.input_grad_wanted = input_grad
        if input_grad:
            self.name = TORCH_DX
        self.grad_x = None
        modules = []
        for k, (W, b) in enumerate(params):
            linear = nn.Linear(W.shape[0], W.shape[1])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(torch.from_numpy(b))
            modules += [linear, nn.ReLU() if k < len(params) - 1 else nn.LogSoftmax(dim=1)]
        self.model = nn.Sequential(*modules)
        self.criterion = nn.NLLLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)

    def step(self, xb, yb, tb):
        """xb, yb: torch tensors (zero-copy views of the NumPy data)."""
        self.optimizer.zero_grad()
        if self.input_grad_wanted:
            xb.requires_grad_(True)       # a fresh view per batch: a leaf, its .grad starts empty
        loss = self.criterion(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        if self.input_grad_wanted:
            self.grad_x = xb.grad
        return loss.item()

    def loss(self, xb, yb, tb):
        with self.torch.no_grad():
            return self.criterion(self.model(xb), yb).item()

    def input_grad(self):
        """dL/dinput of the last step as a NumPy array (torch_dx), None for plain torch."""
        return None if self.grad_x is None else self.grad_x.numpy()

    def params(self):
        linears = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in linears]


class FusedTrainer:
    """Hand-written NumPy: every buffer preallocated, BLAS writes into it, nothing else allocates
    (apart from a few (B,)-sized reductions).

    input_grad=True also computes dL/dX of the first layer (the "fused_dx" reference)."""

    name = "fused"

    def __init__(self, params, lr=0.01, momentum=0.9, batch_size=128, input_grad=False):
        if input_grad:
            self.name = FUSED_DX
        self.lr, self.momentum = DTYPE(lr), DTYPE(momentum)
        self.W = [W.copy() for W, _ in params]
        self.b = [b.copy() for _, b in params]
        self.gW = [np.zeros_like(W) for W in self.W]
        self.gb = [np.zeros_like(b) for b in self.b]
        self.vW = [np.zeros_like(W) for W in self.W]
        self.vb = [np.zeros_like(b) for b in self.b]
        self.tW = [np.zeros_like(W) for W in self.W]     # scratch for lr * v
        self.tb = [np.zeros_like(b) for b in self.b]
        B = batch_size
        widths = [W.shape[1] for W in self.W]
        self.z = [np.empty((B, n), DTYPE) for n in widths]          # pre-activations
        self.a = [np.empty((B, n), DTYPE) for n in widths[:-1]]     # ReLU outputs
        self.g = [np.empty((B, n), DTYPE) for n in widths]          # dL/dz
        self.mask = [np.empty((B, n), np.bool_) for n in widths[:-1]]
        # ReLU as np.maximum(z, zeros): NumPy's vectorised loop; with a scalar 0 it is ~3x slower
        self.zeros = [np.zeros((B, n), DTYPE) for n in widths[:-1]]
        self.grad_x = np.empty((B, self.W[0].shape[0]), DTYPE) if input_grad else None
        self.rowbuf = np.empty((B, 1), DTYPE)
        self.rows = np.arange(B)
        self.n = B                 # rows of the last step's batch

    def _forward(self, xb):
        n = xb.shape[0]
        layer_in = xb
        last = len(self.W) - 1
        for k in range(len(self.W)):
            z = self.z[k][:n]
            np.dot(layer_in, self.W[k], out=z)
            z += self.b[k]
            if k < last:
                layer_in = np.maximum(z, self.zeros[k][:n], out=self.a[k][:n])
        # stable log-softmax pieces: z <- z - max, returns log-sum-exp of the shifted logits
        z = self.z[last][:n]
        row = self.rowbuf[:n]
        np.max(z, axis=1, keepdims=True, out=row)
        z -= row
        p = self.g[last][:n]
        np.exp(z, out=p)
        np.sum(p, axis=1, keepdims=True, out=row)
        return z, p, row

    def step(self, xb, yb, tb):
        self.n = n = xb.shape[0]
        rows = self.rows[:n]
        z, p, sums = self._forward(xb)
        # loss = mean(log sum exp - shifted logit of the true class)
        loss = float(np.log(sums).sum() - z[rows, yb].sum()) / n
        # dL/dz = (softmax - onehot) / B, in place in p
        np.reciprocal(sums, out=sums)
        sums *= DTYPE(1.0 / n)
        p *= sums
        p[rows, yb] -= DTYPE(1.0 / n)
        g = p
        for k in range(len(self.W) - 1, -1, -1):
            layer_in = xb if k == 0 else self.a[k - 1][:n]
            np.dot(layer_in.T, g, out=self.gW[k])
            np.sum(g, axis=0, out=self.gb[k])
            if k > 0:
                g_prev = self.g[k - 1][:n]
                np.dot(g, self.W[k].T, out=g_prev)
                mask = self.mask[k - 1][:n]
                np.greater(self.z[k - 1][:n], 0, out=mask)
                np.multiply(g_prev, mask, out=g_prev)
                g = g_prev
            elif self.grad_x is not None:
                np.dot(g, self.W[0].T, out=self.grad_x[:n])
        # momentum SGD in place: v = momentum v + g; w -= lr v
        for params, grads, vels, tmps in ((self.W, self.gW, self.vW, self.tW),
                                          (self.b, self.gb, self.vb, self.tb)):
            for w, gr, v, t in zip(params, grads, vels, tmps):
                v *= self.momentum
                v += gr
                np.multiply(v, self.lr, out=t)
                w -= t
        return loss

    def loss(self, xb, yb, tb):
        n = xb.shape[0]
        z, p, sums = self._forward(xb)
        return float(np.log(sums).sum() - z[self.rows[:n], yb].sum()) / n

    def input_grad(self):
        """dL/dinput of the last step (fused_dx), None for plain fused."""
        return None if self.grad_x is None else self.grad_x[:self.n]

    def params(self):
        return list(zip(self.W, self.b))


def make_trainer(name, params, lr=0.01, momentum=0.9, batch_size=128):
    """A fresh trainer `name` (one of IMPLEMENTATIONS) starting from `params`."""
    if name == "layers_lib":
        return LayersLibTrainer(params, lr, momentum)
    if name in TORCH_NAMES:
        return TorchTrainer(params, lr, momentum, input_grad=name == TORCH_DX)
    if name in ("fused", FUSED_DX):
        return FusedTrainer(params, lr, momentum, batch_size, input_grad=name == FUSED_DX)
    raise ValueError(f"unknown implementation {name!r}; expected one of {IMPLEMENTATIONS}")


def make_trainers(params, lr=0.01, momentum=0.9, batch_size=128, names=IMPLEMENTATIONS):
    return {name: make_trainer(name, params, lr, momentum, batch_size) for name in names}


class Batches:
    """The same batches in the form each implementation takes (NumPy views / torch views)."""

    def __init__(self, X, y, batch_size):
        import torch
        self.slices = batch_slices(len(X), batch_size)
        self.X, self.y, self.T = X, y, one_hot(y)
        self.X_torch, self.y_torch = torch.from_numpy(X), torch.from_numpy(y)

    def __len__(self):
        return len(self.slices)

    def get(self, name, k):
        s = self.slices[k]
        if name in TORCH_NAMES:       # a new view each call (torch_dx marks it requires_grad)
            return self.X_torch[s], self.y_torch[s], None
        return self.X[s], self.y[s], self.T[s]


def run_epoch(trainer, batches, n_batches=None):
    """Train `trainer` on the batches in order; returns the mean batch loss."""
    n = len(batches) if n_batches is None else n_batches
    total = 0.0
    for k in range(n):
        total += trainer.step(*batches.get(trainer.name, k))
    return total / n


def compare_losses(trainers, batches, steps=3, rtol=1e-4):
    """Losses on the first batch from the initial weights, then after each of `steps` training
    steps; raises AssertionError if the implementations disagree beyond float32 tolerance.
    Returns {name: [loss_0, loss_1, ...]}."""
    losses = {name: [] for name in trainers}
    for name, trainer in trainers.items():
        losses[name].append(trainer.loss(*batches.get(name, 0)))
        for k in range(steps):
            trainer.step(*batches.get(name, k % len(batches)))
            losses[name].append(trainer.loss(*batches.get(name, 0)))
    reference = np.asarray(losses["layers_lib"])
    for name, values in losses.items():
        values = np.asarray(values)
        error = np.abs(values - reference)
        if not np.all(error <= rtol * np.maximum(1.0, np.abs(reference))):
            raise AssertionError(f"{name} disagrees with layers_lib on the loss: "
                                 f"{values.tolist()} vs {reference.tolist()}")
    return losses


def compare_input_grads(trainers, batches, steps=3, rtol=1e-4):
    """dL/dinput of each of `steps` training steps from the same weights, for the trainers
    that compute it (layers_lib, torch_dx, fused_dx); raises AssertionError if one disagrees
    with layers_lib by more than rtol times the largest |layers_lib gradient| of that step
    (float32 tolerance), or has the wrong shape or dtype. Returns {name: [relative error of
    each step]} (layers_lib's own entry is zeros)."""
    errors = {}
    grads = {}
    for name, trainer in trainers.items():
        grads[name] = []
        for k in range(steps):
            trainer.step(*batches.get(name, k % len(batches)))
            g = trainer.input_grad()
            grads[name].append(None if g is None else np.array(g, copy=True))
    if "layers_lib" not in grads:
        raise ValueError("compare_input_grads needs the layers_lib trainer as the reference")
    reference = grads.pop("layers_lib")
    errors["layers_lib"] = [0.0] * steps
    for name, values in grads.items():
        if all(v is None for v in values):
            continue                          # torch / fused: no input gradient to compare
        errors[name] = []
        for k, (value, ref) in enumerate(zip(values, reference)):
            if value is None or value.shape != ref.shape or value.dtype != ref.dtype:
                raise AssertionError(
                    f"{name}: input gradient of step {k} is "
                    f"{None if value is None else (value.shape, value.dtype)}, layers_lib's "
                    f"{(ref.shape, ref.dtype)}")
            scale = float(np.abs(ref).max()) or 1.0
            error = float(np.abs(value.astype(np.float64) - ref).max()) / scale
            errors[name].append(error)
            if not error <= rtol:
                raise AssertionError(f"{name} disagrees with layers_lib on the input gradient "
                                     f"of step {k}: max |difference| = {error:.3g} x max |grad| "
                                     f"(tolerance {rtol})")
    return errors


# --------------------------------------------------------------------------- environment

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_ticks():
    """(busy, total) jiffies of the whole machine from /proc/stat, or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)     # idle + iowait
    return sum(fields) - idle, sum(fields)


class LoadMonitor:
    """How much CPU the rest of the machine used while we measured: the machine's busy time
    (/proc/stat) minus this process's CPU time, as a fraction of all CPUs. A busy machine
    (other jobs, CI) distorts the timings, multi-threaded BLAS most of all."""

    def __enter__(self):
        self.ticks, self.cpu, self.wall = _cpu_ticks(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        end = _cpu_ticks()
        self.own_cpu = time.process_time() - self.cpu
        self.elapsed = time.perf_counter() - self.wall
        self.foreign_fraction = None
        if self.ticks is not None and end is not None and end[1] > self.ticks[1]:
            busy = (end[0] - self.ticks[0]) / (end[1] - self.ticks[1])    # fraction of all CPUs
            own = self.own_cpu / (self.elapsed * (os.cpu_count() or 1))
            self.foreign_fraction = max(0.0, busy - own)
        return False


@contextmanager
def thread_limits(threads):
    """Limit the BLAS/OpenMP pools (threadpoolctl) and torch to `threads`; restored on exit.

    Without threadpoolctl the BLAS pools follow OMP/OPENBLAS/MKL_NUM_THREADS, which the
    script sets from --threads before NumPy is imported.
    """
    import torch
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with (threadpoolctl.threadpool_limits(limits=threads) if threadpoolctl is not None
              else nullcontext()):
            yield
    finally:
        torch.set_num_threads(previous)


class SpeedProbe:
    """A fixed float32 GEMM workload timed before every epoch: the machine's speed at that time.

    /proc/stat cannot see everything that slows this machine down: on a virtual machine the
    host's other guests (e.g. on the sibling hyperthreads) can halve the speed of the same
    work while every CPU of this guest looks idle to it. The spread of the probe's times
    (slowest / fastest) over the run shows such drift; the epochs are not comparable when it
    is large."""

    def __init__(self, size=256, repeats=30):
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((size, size), dtype=DTYPE)
        self.out = np.empty_like(self.a)
        self.repeats = repeats
        self.seconds = []

    def __call__(self):
        """The fastest of 3 timings of the workload (~6 ms each on 2 cores): a sustained
        slowdown shows, a momentary hiccup (one scheduler tick) does not."""
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(self.repeats):
                np.dot(self.a, self.a, out=self.out)
            best = min(best, time.perf_counter() - start)
        self.seconds.append(best)
        return best

    def spread(self):
        return max(self.seconds) / min(self.seconds) if self.seconds else None


def settle_thread_pools(quantum=0.05, idle_cpu=0.005, timeout=1.0):
    """Sleep until this process's own threads are idle; returns the seconds waited.

    After its last call, OpenBLAS's worker threads keep spinning for ~0.1 s (a whole core),
    and OpenMP's do so briefly: an epoch started right after another library's would share
    the CPUs with them (measured: 100 torch batches right after a NumPy GEMM took 0.1 s more
    than after a pause). Each timed epoch therefore starts once the process used less than
    `idle_cpu` CPU-seconds during a `quantum`-second sleep."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        cpu = time.process_time()
        time.sleep(quantum)
        if time.process_time() - cpu < idle_cpu:
            break
    return time.perf_counter() - start


def _loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return None


def environment(threads):
    import torch
    env = {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
           "threads": threads, "torch_threads": torch.get_num_threads(), "cpu": cpu_model(),
           "cpu_count": os.cpu_count(),
           "thread_control": "threadpoolctl" if threadpoolctl is not None else "environment"}
    if threadpoolctl is not None:
        env["threadpools"] = [{k: info.get(k) for k in ("internal_api", "version", "num_threads")}
                              for info in threadpoolctl.threadpool_info()]
    else:
        env["threadpools"] = {v: os.environ.get(v) for v in
                              ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return env


# --------------------------------------------------------------------------- benchmark

def benchmark(n_samples=60_000, batch_size=128, repeats=5, threads=_DEFAULT_THREADS,
              lr=0.01, momentum=0.9, warmup_batches=20, seed=0, check_steps=3, progress=None,
              fused_input_grad=None):
    """Time `repeats` epochs of each implementation, alternating; returns the report dict.

    fused_input_grad: ignored (the like-with-like columns torch_dx and fused_dx are always
    measured now); kept so that older callers still work."""
    names = IMPLEMENTATIONS
    X, y = make_data(n_samples, seed=seed)
    batches = Batches(X, y, batch_size)
    params = init_params(seed=seed)
    with thread_limits(threads):
        # fairness: identical losses from identical weights before anything is timed, and the
        # same input gradient from the three implementations that compute it
        losses = compare_losses(make_trainers(params, lr, momentum, batch_size, names), batches,
                                steps=check_steps)
        grad_errors = compare_input_grads(
            make_trainers(params, lr, momentum, batch_size, INPUT_GRAD_NAMES), batches,
            steps=max(1, check_steps))
        times = {name: [] for name in names}
        epoch_loss = {}
        # warm-up: caches, BLAS thread pools, torch's lazy initialisation
        for trainer in make_trainers(params, lr, momentum, batch_size, names).values():
            run_epoch(trainer, batches, min(warmup_batches, len(batches)))
        env = environment(threads)
        probe = SpeedProbe()
        probe()                                   # warm-up of the probe itself
        probe.seconds.clear()
        with LoadMonitor() as monitor:
            for r in range(repeats):
                for name in names:
                    trainer = make_trainer(name, params, lr, momentum, batch_size)
                    gc.collect()
                    probe()                   # the machine's speed just before this epoch
                    settle_thread_pools()     # no spinning BLAS/OpenMP workers of the last one
                    start = time.perf_counter()
                    epoch_loss[name] = run_epoch(trainer, batches)
                    times[name].append(time.perf_counter() - start)
                    if progress:
                        progress(f"repeat {r + 1}/{repeats} {name:10s} {times[name][-1]:.3f} s"
                                 f"  (speed probe {1e3 * probe.seconds[-1]:.1f} ms)")
            probe()                           # ... and just after the last one
    env["foreign_cpu_fraction"] = monitor.foreign_fraction
    env["loadavg"] = _loadavg()
    env["speed_probe_seconds"] = probe.seconds    # before each epoch in run order, and at the end
    env["speed_probe_spread"] = probe.spread()
    # steady epochs: the probes just before and just after within STEADY of the fastest probe
    limit = STEADY * min(probe.seconds)
    steady = {name: [max(probe.seconds[r * len(names) + i], probe.seconds[r * len(names) + i + 1])
                     <= limit for r in range(repeats)]
              for i, name in enumerate(names)}
    median = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}

    def paired(other, rounds=range(repeats)):   # median over rounds of the ratio within a round
        return statistics.median(times["layers_lib"][r] / times[other][r] for r in rounds)
    ratios = {}
    for other in ("torch", "fused", TORCH_DX, FUSED_DX):
        ratios[f"ratio_layers_lib_vs_{other}"] = median["layers_lib"] / median[other]
    for other in ("torch", "fused", TORCH_DX, FUSED_DX):
        # the same ratios from the fastest run of each (less sensitive to a busy machine)
        ratios[f"ratio_best_layers_lib_vs_{other}"] = best["layers_lib"] / best[other]
    for other in ("torch", "fused", TORCH_DX, FUSED_DX):
        ratios[f"ratio_paired_layers_lib_vs_{other}"] = paired(other)
    steady_pairs = {}
    for other in ("torch", "fused", TORCH_DX, FUSED_DX):
        # paired, over the rounds where both epochs were steady (None when there is none)
        rounds = [r for r in range(repeats) if steady["layers_lib"][r] and steady[other][r]]
        steady_pairs[other] = len(rounds)
        ratios[f"ratio_steady_layers_lib_vs_{other}"] = paired(other, rounds) if rounds else None
    reliable = ((monitor.foreign_fraction is None or monitor.foreign_fraction <= BUSY_WARNING)
                and (probe.spread() is None or probe.spread() <= SPEED_WARNING))
    return {
        "config": {"n_samples": n_samples, "batch_size": batch_size, "sizes": list(SIZES),
                   "dtype": "float32", "lr": lr, "momentum": momentum, "repeats": repeats,
                   "batches_per_epoch": len(batches), "seed": seed,
                   "implementations": list(names)},
        "environment": env,
        "seconds_per_epoch": median,
        "runs": times,
        "epoch_mean_loss": epoch_loss,
        "check_losses": losses,
        # max |input gradient - layers_lib's| / max |layers_lib's|, per checked step
        "check_input_grad_errors": grad_errors,
        "steady_epochs": steady,            # {name: [bool per round]}
        "steady_pairs": steady_pairs,       # {peer: rounds in which both epochs were steady}
        **ratios,
        "targets": {
            # issue 11 item 5, like with like (judged on the ratio of the medians)
            "vs_torch_dx_max": TARGET_VS_TORCH_DX, "vs_fused_dx_max": TARGET_VS_FUSED_DX,
            "vs_torch_dx_met": ratios[f"ratio_layers_lib_vs_{TORCH_DX}"] <= TARGET_VS_TORCH_DX,
            "vs_fused_dx_met": ratios[f"ratio_layers_lib_vs_{FUSED_DX}"] <= TARGET_VS_FUSED_DX,
            # the earlier targets against peers that skip the input gradient (continuity)
            "vs_torch_max": TARGET_VS_TORCH, "vs_fused_max": TARGET_VS_FUSED,
            "vs_torch_met": ratios["ratio_layers_lib_vs_torch"] <= TARGET_VS_TORCH,
            "vs_fused_met": ratios["ratio_layers_lib_vs_fused"] <= TARGET_VS_FUSED,
            # False when other processes used more than BUSY_WARNING of the CPUs or the
            # machine's speed drifted by more than SPEED_WARNING: then no verdict above is
            # evidence either way
            "reliable": reliable},
    }


def format_report(report):
    env, cfg, med = report["environment"], report["config"], report["seconds_per_epoch"]
    t = report["targets"]
    verdict = {True: "met", False: "MISSED"}
    caveat = "" if t.get("reliable", True) else "  (busy or unsteady machine: not evidence)"
    lines = [
        f"MLP {'-'.join(map(str, cfg['sizes']))}, {cfg['dtype']}, batch {cfg['batch_size']}, "
        f"{cfg['n_samples']} samples ({cfg['batches_per_epoch']} batches), "
        f"SGD lr {cfg['lr']} momentum {cfg['momentum']}",
        f"numpy {env['numpy']}, torch {env['torch']}, python {env['python']}, "
        f"threads {env['threads']} ({env['thread_control']}), CPU: {env['cpu']} "
        f"({env['cpu_count']} logical)",
        f"median of {cfg['repeats']} alternating epochs",
    ]
    foreign = env.get("foreign_cpu_fraction")
    if foreign is not None:
        lines.append(f"other processes used {100 * foreign:.0f} % of the CPUs while timing"
                     + ("  -- WARNING: busy machine, timings are not reliable"
                        if foreign > BUSY_WARNING else ""))
    spread = env.get("speed_probe_spread")
    if spread is not None:
        lines.append(f"CPU-speed probe around each epoch: slowest / fastest = {spread:.2f}"
                     + (f"  -- WARNING: the machine's speed drifted (> {SPEED_WARNING}), "
                        "timings are not reliable" if spread > SPEED_WARNING else ""))
    if env.get("loadavg"):
        lines.append("load average after timing: " + ", ".join(f"{v:.2f}" for v in env["loadavg"]))
    grad_errors = report.get("check_input_grad_errors", {})
    checked = [f"{name} {max(errs):.1e}" for name, errs in grad_errors.items()
               if name != "layers_lib"]
    lines.append("checked before timing: same loss on the first batch and after "
                 f"{len(next(iter(report['check_losses'].values()))) - 1} steps (all)"
                 + (f"; same input gradient as layers_lib (max rel. error: {', '.join(checked)})"
                    if checked else ""))
    lines += [
        "",
        f"{'implementation':<16}{'s/epoch':>10}{'min':>10}{'max':>10}   input gradient",
    ]
    for name, runs in report["runs"].items():
        dx = "yes" if name in INPUT_GRAD_NAMES else "no"
        lines.append(f"{name:<16}{med[name]:>10.3f}{min(runs):>10.3f}{max(runs):>10.3f}   {dx}")

    def row(other, target_key, note):
        label = f"layers_lib / {other}"
        met = t.get(f"{target_key}_met")
        steady = report.get(f"ratio_steady_layers_lib_vs_{other}")
        pairs = report.get("steady_pairs", {}).get(other, 0)
        return (f"{label:<24}{report[f'ratio_layers_lib_vs_{other}']:8.3f}"
                f"{report[f'ratio_best_layers_lib_vs_{other}']:9.3f}"
                f"{report[f'ratio_paired_layers_lib_vs_{other}']:8.3f}"
                + (f"{steady:8.3f} ({pairs})" if steady is not None else f"{'-':>8} (0)")
                + f"   target <= {t[f'{target_key}_max']}: {verdict[met]}{note}")
    lines += [
        "",
        f"{'ratio':<24}{'medians':>8}{'fastest':>9}{'paired':>8}{'steady (n)':>12}",
        "like with like (all three compute the input gradient; issue 11 item 5):",
        row(TORCH_DX, "vs_torch_dx", caveat),
        row(FUSED_DX, "vs_fused_dx", caveat),
        "unlike work (the peer skips the input gradient; earlier targets, for continuity):",
        row("torch", "vs_torch", caveat),
        row("fused", "vs_fused", caveat),
        "(targets judged on the medians; medians: ratio of the median times; fastest: of each "
        "one's fastest run; paired: median of the per-round ratios; steady: paired over the n "
        f"of {cfg['repeats']} rounds in which the speed probes around both epochs stayed within "
        f"{round(100 * (STEADY - 1))} % of the fastest)",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="epochs per implementation (median)")
    parser.add_argument("--threads", type=int, default=_DEFAULT_THREADS,
                        help="threads for BLAS and torch (default: os.cpu_count())")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="no per-run progress lines")
    # the fused_dx column used to be optional; it is always measured now (accepted, no effect)
    parser.add_argument("--fused-input-grad", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1")
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    report = benchmark(n_samples=args.samples, batch_size=args.batch_size, repeats=args.repeats,
                       threads=args.threads, seed=args.seed, progress=progress)
    print(format_report(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return report


if __name__ == "__main__":
    main()
