"""Builds `source/task8/[1]task8_modules.ipynb`: the text of each section plus the solution
cells taken from layers_lib itself (see solutions.py).   python -m layers_lib.course.notebooks.modules
"""
import layers_lib.reference as L
from layers_lib import contract as base
from layers_lib.reference import activations, criteria, layers, optim

from .cells import free_code, given_code, markdown, notebook, solution_code
from .solutions import plain_source, solution_cell_source

INTRO = r"""
# Task 8, part 1: a neural-network framework in NumPy

You will implement the layers of a small framework in the style of Torch7's `nn`: every layer is
an object with a **forward** pass (compute the output) and a **backward** pass (given
$\frac{\partial L}{\partial y}$, the gradient of the loss with respect to the layer's output,
compute $\frac{\partial L}{\partial x}$ and the gradients of the parameters).

**How to work.** Fill in every cell that says `# YOUR CODE HERE` (delete the `raise
NotImplementedError()`), then run `[2]task8_test_modules.ipynb`: it tests every class against
PyTorch and tells you *what* is wrong (the layer, the quantity, the worst element, expected vs
got). From a terminal, `python -m layers_lib.grading check "[1]task8_modules.ipynb"` runs the same
checks, hidden ones included. When everything passes, train your network in
`[0]task8_train_model.ipynb`.

**Conventions used throughout.** $B$ is the batch size, $N$ the number of input features,
$M$ the number of output features. Inputs are `(B, N)` arrays; $G = \frac{\partial L}{\partial Y}$
is the `grad_output` argument. Keep the input's dtype: float32 in gives float32 out (`np.zeros(shape)`
is float64; use `np.zeros_like` or `dtype=input.dtype`). Vectorise: no Python loops over samples
or features.

Only the cells you fill in are graded; do not rename the classes or change their signatures.
"""

CONTRACT = r"""
## The contract: `Module` and `Criterion`

Read these two classes carefully, they are given. `forward` calls `update_output`; `backward`
calls `update_grad_input` **and** `update_grad_params`. Each method both **stores** its result
(`self.output`, `self.grad_input`) and **returns** it.

`update_grad_params` **sets** the parameter gradients, it does not add to them: calling it twice
with the same arguments gives the same gradients (the tests do exactly that).
`get_params()` and `get_grad_params()` return the *live* arrays: the optimizer updates the
parameters in place.
"""

SECTIONS = [
    ("Linear", r"""
## 1. `Linear(n_in, n_out)`: the affine layer

$$Y = XW + b, \qquad X \in \mathbb{R}^{B\times N},\; W \in \mathbb{R}^{N\times M},\; b \in \mathbb{R}^{M},\; Y \in \mathbb{R}^{B\times M}$$

Backward, with $G = \partial L / \partial Y$ of shape `(B, M)`:

$$\frac{\partial L}{\partial X} = G W^\top \;(B\times N), \qquad
\frac{\partial L}{\partial W} = X^\top G \;(N\times M), \qquad
\frac{\partial L}{\partial b} = \sum_{i=1}^{B} G_{i,:} \;(M)$$

**Pitfalls.** `W` is `(n_in, n_out)`, the transpose of PyTorch's `weight`. The bias gradient is a
*sum* over the batch: the criterion already divided by $B$. Check the shapes: `grad_W` must have
the shape of `W`.
"""),
    ("SoftMax", r"""
## 2. `SoftMax`: probabilities over the features (axis 1)

$$p_{ij} = \frac{e^{x_{ij} - m_i}}{\sum_k e^{x_{ik} - m_i}}, \qquad m_i = \max_k x_{ik}$$

Subtracting the row maximum changes nothing mathematically, but keeps every exponent $\le 0$:
`np.exp(1000.)` overflows to `inf` (float32 overflows already above 88).

Backward is a Jacobian-vector product, not an element-wise product:

$$\frac{\partial L}{\partial x_{ij}} = p_{ij}\Big(g_{ij} - \sum_k g_{ik}\, p_{ik}\Big)$$
"""),
    ("LogSoftMax", r"""
## 3. `LogSoftMax`: the log of the softmax, computed stably

$$y_{ij} = (x_{ij} - m_i) - \log \sum_k e^{x_{ik} - m_i}$$

Never compute `np.log(softmax)`: for large logits the softmax underflows to 0 and the log gives
`-inf`. With the max shift, the log-sum-exp term lies in $[0, \log N]$.

$$\frac{\partial L}{\partial x_{ij}} = g_{ij} - e^{y_{ij}} \sum_k g_{ik}$$
"""),
    ("BatchNormalization", r"""
## 4. `BatchNormalization(alpha)`: normalise every feature over the batch

Training mode, per feature $j$:

$$\mu_j = \frac1B\sum_i x_{ij}, \quad \sigma^2_j = \frac1B\sum_i (x_{ij}-\mu_j)^2, \quad
y_{ij} = \frac{x_{ij}-\mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}$$

and the moving statistics (used in evaluation mode):
`moving_mean = alpha * moving_mean + (1 - alpha) * mu` and the same for `moving_variance` with
$\sigma^2$. If they are `None`, start them at 0 and 1. Evaluation mode normalises with
`moving_mean` and `moving_variance` instead of the batch statistics.

Backward in training mode ($s_j = 1/\sqrt{\sigma^2_j+\varepsilon}$, $G$ the upstream gradient):

$$\frac{\partial L}{\partial x_{ij}} = \frac{s_j}{B}\Big(B\,g_{ij} - \sum_k g_{kj} - y_{ij}\sum_k g_{kj}\,y_{kj}\Big)$$

**Pitfalls.** The variance is the **biased** one (divide by $B$; `np.var` does that; PyTorch stores
the unbiased one in `running_var`). `alpha` weighs the **old** value (PyTorch's momentum is
`1 - alpha`). There is no $\gamma, \beta$ here: that is `Scaling`. `EPS` is a class attribute.
"""),
    ("Scaling", r"""
## 5. `Scaling(n_out)`: the per-feature affine part of batch norm

$$y_{ij} = x_{ij}\gamma_j + \beta_j, \qquad
\frac{\partial L}{\partial x_{ij}} = g_{ij}\gamma_j, \quad
\frac{\partial L}{\partial \gamma_j} = \sum_i g_{ij}x_{ij}, \quad
\frac{\partial L}{\partial \beta_j} = \sum_i g_{ij}$$

`Sequential(BatchNormalization, Scaling)` is exactly PyTorch's `BatchNorm1d(affine=True)`.
"""),
    ("Dropout", r"""
## 6. `Dropout(p)`: inverted dropout, `p` = probability to **drop**

Training: draw an independent mask $m_{ij} \sim \mathrm{Bernoulli}(1-p)$ for **every element**
(not per row or column), and rescale what is kept: $y = x \odot m / (1-p)$, so that
$\mathbb{E}[y] = x$. Evaluation: $y = x$. Backward reuses the mask of the forward pass:
$\partial L/\partial x = g \odot m / (1-p)$.

**Pitfalls.** `p` is the probability to *drop* (CS231n uses the keep probability). Do not draw a
new mask in backward. Forgetting the $1/(1-p)$ makes evaluation outputs larger than training ones.
"""),
    ("ReLU", r"""
## 7. `ReLU`

$$y = \max(x, 0), \qquad \frac{\partial L}{\partial x} = g\,[x > 0]$$

At exactly $x = 0$ the gradient is 0 (PyTorch's convention; the tests feed exact zeros).
"""),
    ("LeakyReLU", r"""
## 8. `LeakyReLU(slope)`

$$y = \begin{cases} x & x > 0 \\ \text{slope}\cdot x & x \le 0\end{cases}, \qquad
\frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\ \text{slope}\cdot g & x \le 0\end{cases}$$
"""),
    ("ELU", r"""
## 9. `ELU(alpha)`

$$y = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0\end{cases}, \qquad
\frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\ g\,\alpha e^{x} & x \le 0\end{cases}$$

**Pitfall.** `np.where(x > 0, x, alpha * (np.exp(x) - 1))` evaluates `np.exp` on *every* element,
and overflows for large positive $x$: the values are still right (the overflowed branch is thrown
away), so it costs no points, but the test shows the warning as advice and the work is wasted.
Evaluate the exponential on `np.minimum(x, 0)`; `np.expm1` is more precise near 0.
"""),
    ("SoftPlus", r"""
## 10. `SoftPlus`

$$y = \log(1 + e^{x}) = \max(x, 0) + \log\!\big(1 + e^{-|x|}\big), \qquad
\frac{\partial L}{\partial x} = g\,\sigma(x) = \frac{g}{1 + e^{-x}}$$

The right-hand form never exponentiates a positive number (`np.log1p` keeps precision for small
arguments). Compute $\sigma(x)$ without overflow too.
"""),
    ("Sequential", r"""
## 11. `Sequential`: a chain of modules

Forward: $y_0 = x$, $y_k = f_k(y_{k-1})$. Backward in reverse order:
$g_{k-1} = f_k.\mathrm{backward}(y_{k-1}, g_k)$.

**Pitfall.** Module $k$ must get back **the input it saw in forward** ($y_{k-1}$, the previous
module's output), not the input of the whole `Sequential`. `backward` of each module already sets
its parameter gradients. The given methods (`add`, `get_params`, `train`, ...) show the structure.
"""),
    ("NLLCriterionUnstable", r"""
## 12. `NLLCriterionUnstable`: negative log-likelihood on probabilities

For a one-hot target $t$ `(B, C)` and probabilities $p$ (a `SoftMax` output):

$$L = -\frac1B\sum_{i,j} t_{ij}\log \mathrm{clip}(p_{ij}, \varepsilon, 1-\varepsilon), \qquad
\frac{\partial L}{\partial p_{ij}} = -\frac{t_{ij}}{B\;\mathrm{clip}(p_{ij}, \varepsilon, 1-\varepsilon)}$$

The criteria are the only place that divides by the batch size. Why "unstable": once $p$
underflows to 0, the clip caps the loss at $-\log\varepsilon \approx 34.5$ and the gradient at
$1/\varepsilon$. The stable pair is `LogSoftMax` + `NLLCriterion`.
"""),
    ("NLLCriterion", r"""
## 13. `NLLCriterion`: negative log-likelihood on log-probabilities

For log-probabilities $y$ (a `LogSoftMax` output):

$$L = -\frac1B\sum_{i,j} t_{ij}\,y_{ij}, \qquad \frac{\partial L}{\partial y_{ij}} = -\frac{t_{ij}}{B}$$
"""),
    ("sgd_momentum", r"""
## 14. Optimizers: `sgd_momentum`

`variables = model.get_params()` and `gradients = model.get_grad_params()` are lists of lists (one
list per module). `iterate_params` (given below) walks them in pairs. Update **in place**
(`variable -= ...`, not `variable = variable - ...`, which would only rebind a local name), and
keep your buffers in the `state` dict between calls:

$$v \leftarrow \mu v + g, \qquad w \leftarrow w - \eta\, v \qquad (\text{as } \texttt{torch.optim.SGD})$$
"""),
    ("adam_optimizer", r"""
## 15. `adam_optimizer`

$$t \leftarrow t+1,\quad m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,
\quad w \leftarrow w - \eta\,\frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}$$

(as `torch.optim.Adam`; note where $\epsilon$ goes). `config` holds `learning_rate`, `beta1`,
`beta2`, `epsilon`.
"""),
]

DASHBOARD = r"""
## Inspect your layers

Run the next cell to open the gradient inspector: one row per class, pass/fail per quantity;
choose a row to see heatmaps of expected vs your values and where they differ. It does nothing
during grading.
"""

DASHBOARD_CODE = r"""
import os
if not os.environ.get("NBGRADER_EXECUTION"):
    from layers_lib.widgets import dashboard
    display(dashboard(globals()))
"""


def build():
    cells = [markdown("intro", INTRO), given_code("imports", "import numpy as np"),
             markdown("contract", CONTRACT),
             given_code("module_contract", plain_source(base.Module)),
             given_code("criterion_contract", plain_source(base.Criterion))]
    for name, text in SECTIONS:
        key = name.lower()
        cells.append(markdown(f"about_{key}", text))
        if name == "sgd_momentum":
            cells.append(given_code("iterate_params", plain_source(optim.iterate_params)))
        cells.append(solution_code(f"{key}_solution", solution_cell_source(getattr(L, name))))
    cells += [markdown("about_dashboard", DASHBOARD), free_code("dashboard", DASHBOARD_CODE)]
    return notebook(cells)


SOLUTION_NAMES = [name for name, _ in SECTIONS]
MODULES = (base, layers, activations, criteria, optim)
