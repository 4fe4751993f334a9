"""Hidden checks of the advanced track (instructor only): Conv2d, MaxPool2d, Flatten.

Same shape as `hidden_checks`: a list of scenarios per class, float32 and float64, against
PyTorch in float64. The shapes are the ones the visible tests leave out: batch 1, one channel,
non-square images, odd and even sizes, kernels 1, 3 and 5; ties in every pooling window.
"""
import numpy as np

from layers_lib.grading import magnitude
from layers_lib.grading.testkit import torch_forward_backward
from layers_lib.i18n import mark, setting, tr

from .hidden_common import DTYPES, ZEROED, random_data as _data, run_layer as _run_layer

VALUES = {"random": mark("random values"), "negative": mark("negative values"), "ties": mark("ties")}


def _conv2d(cls, check, ns):
    import torch
    # (batch, in, out, height, width, kernel)
    shapes = ((1, 1, 1, 7, 5, 3), (2, 3, 2, 4, 6, 5), (3, 2, 4, 8, 3, 1), (2, 4, 3, 9, 10, 3),
              (2, 3, 3, 6, 5, 3))             # in == out: channels must still be swapped in backward
    for dtype in DTYPES:
        for batch, n_in, n_out, height, width, k in shapes:
            torch_layer = torch.nn.Conv2d(n_in, n_out, k, padding=k // 2)
            layer = cls(n_in, n_out, k)
            layer.W = torch_layer.weight.detach().numpy().astype(dtype)
            layer.b = torch_layer.bias.detach().numpy().astype(dtype)
            x, g = _data((batch, n_in, height, width), dtype), _data((batch, n_out, height, width), dtype)
            where = setting(" ({dtype}, {batch}x{n_in}x{height}x{width} -> {n_out} channels, kernel {k})",
                            dtype=np.dtype(dtype).name, batch=batch, n_in=n_in, height=height,
                            width=width, n_out=n_out, k=k)
            out, grad = _run_layer(layer, x, g, params=True, where=where)
            ref = torch_forward_backward(x, g, torch_layer)
            scale = magnitude.conv2d(x, g, layer.W, layer.b)
            check(ref.output, out, "output" + where, scale["output"], dtype)
            check(ref.grad_input, grad, "grad_input" + where, scale["grad_input"], dtype)
            grads = layer.get_grad_params()
            check(ref.layer.weight.grad.numpy(), grads[0], "grad_W" + where, scale["grad_W"], dtype,
                  batch_size=batch)
            check(ref.layer.bias.grad.numpy(), grads[1], "grad_b" + where, scale["grad_b"], dtype,
                  batch_size=batch, hypotheses={tr("averaged over the batch and the pixels instead of summed"):
                                                ref.layer.bias.grad.numpy() / (batch * height * width)})
            layer.zero_grad_params()
            for n, zero in enumerate(layer.get_grad_params()):
                check(np.zeros(np.shape(zero)), zero, f"get_grad_params()[{n}]" + ZEROED)


def _maxpool2d(cls, check, ns):
    import torch
    # (batch, channels, height, width, kernel): odd and even sizes, non-square, batch 1
    shapes = ((1, 1, 4, 4, 2), (2, 3, 7, 5, 2), (3, 2, 9, 6, 3), (1, 2, 5, 5, 5), (2, 1, 6, 4, 1))
    for dtype in DTYPES:
        for batch, channels, height, width, k in shapes:
            for values in ("random", "negative", "ties"):
                shape = (batch, channels, height, width)
                if values == "ties":            # plateaus: the first maximum gets the gradient
                    x = np.random.randint(-1, 1, shape).astype(dtype)
                else:
                    x = _data(shape, dtype, -10, -1 if values == "negative" else 10)
                g = _data((batch, channels, height // k, width // k), dtype)
                where = setting(" ({dtype}, {batch}x{channels}x{height}x{width}, kernel {k}, {values})",
                                dtype=np.dtype(dtype).name, batch=batch, channels=channels,
                                height=height, width=width, k=k, values=VALUES[values])
                out, grad = _run_layer(cls(k), x, g, where=where)
                ref = torch_forward_backward(x, g, torch.nn.MaxPool2d(k))
                check(ref.output, out, "output" + where, None, dtype)
                check(ref.grad_input, grad, "grad_input" + where, None, dtype)


def _flatten(cls, check, ns):
    import torch
    for dtype in DTYPES:
        for shape in ((1, 1, 7, 5), (4, 3, 2, 6), (2, 5), (3, 2, 4)):
            x = _data(shape, dtype)
            g = _data((shape[0], int(np.prod(shape[1:]))), dtype)
            where = setting(" ({dtype}, shape {shape})", dtype=np.dtype(dtype).name, shape=shape)
            out, grad = _run_layer(cls(), x, g, where=where)
            ref = torch_forward_backward(x, g, torch.nn.Flatten())
            check(ref.output, out, "output" + where, None, dtype)
            check(ref.grad_input, grad, "grad_input" + where, None, dtype)


ADVANCED_HIDDEN_CHECKS = {"Conv2d": [_conv2d], "MaxPool2d": [_maxpool2d], "Flatten": [_flatten]}
