"""The IDX file format of MNIST (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT"):
read and write one file, raw or gzip-compressed. `data.load_mnist_idx` builds the splits.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx"]

# IDX type codes -> big-endian dtypes.
_IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}


def read_idx(path):
    """Read one IDX file (raw or gzip-compressed; detected from the content, not the name).

    Input:
    - path: the file, e.g. 'train-images-idx3-ubyte' or 'train-images-idx3-ubyte.gz'.

    Returns an array in native byte order with the file's shape and dtype, e.g.
    (60000, 28, 28) uint8 for MNIST training images, (60000,) uint8 for labels.
    Raises FileNotFoundError if the file is missing, ValueError if it is not a valid
    IDX file (bad magic number, unknown type code, size not matching the header).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":  # gzip magic
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:  # corrupt or truncated gzip stream
        raise ValueError(f"{path}: cannot decompress gzip data ({e})") from e
    if len(raw) < 4:
        raise ValueError(f"{path}: file has {len(raw)} bytes, too short for the 4-byte IDX magic number")
    if raw[:2] != b"\0\0":
        raise ValueError(f"{path}: bad magic number 0x{raw[:4].hex()}: an IDX file starts with "
                         "two zero bytes (is this really an IDX file?)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; expected one of "
                         + ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES))
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                         f"file has {len(raw)}")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"{path}: file {what}: header says shape {shape} of {dtype.name}, "
                         f"i.e. {expected} bytes, but the data has {len(raw)}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed if ``path`` ends with '.gz'.

    Inputs:
    - path: destination file.
    - array: an array of dtype uint8, int8, int16, int32, float32 or float64 (the types IDX
      can store), with 1 to 255 dimensions.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _IDX_CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of "
                         + ", ".join(str(d) for d in _IDX_CODES))
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, got {array.ndim}")
    code = _IDX_CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_IDX_DTYPES[code]).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
