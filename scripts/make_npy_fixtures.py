#!/usr/bin/env python3
"""Writes the small .npy / .npz fixtures used by Tests/MPQDataTests.

Run from the repository root:  python3 scripts/make_npy_fixtures.py
The expected values are asserted literally in Tests/MPQDataTests, so keep the arrays here and
the literals there in step. Requires NumPy (any version with np.lib.format.write_array).
"""
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "MPQDataTests", "Fixtures")


def path(name):
    return os.path.join(OUT, name)


def write(name, array, version=(1, 0)):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


def main():
    os.makedirs(OUT, exist_ok=True)

    # Header versions: the same float32 3x4 matrix, values -1.0, -0.5, ..., 4.5.
    grid = (np.arange(12, dtype=np.float32) * 0.5 - 1.0).reshape(3, 4)
    write("f4_v1.npy", grid, version=(1, 0))
    write("f4_v2.npy", grid, version=(2, 0))
    write("f4_v3.npy", grid, version=(3, 0))

    # One file per dtype.
    write("f8.npy", np.array([1.5, -2.25, 0.1, 1e-3], dtype="<f8"))
    write("f2.npy", np.array([0.5, -1.0, 65504.0, 2.0 ** -14, 2.0 ** -24, np.inf], dtype="<f2"))
    write("i8.npy", np.array([[-3, 0, 7], [2 ** 40, -(2 ** 40), 1]], dtype="<i8"))
    write("i4.npy", np.array([-2147483648, 0, 2147483647], dtype="<i4"))
    write("i2.npy", np.array([-32768, 1, 32767], dtype="<i2"))
    write("i1.npy", np.array([-128, 0, 127], dtype="|i1"))
    write("u1.npy", np.array([0, 128, 255], dtype="|u1"))
    write("u2.npy", np.array([0, 65535], dtype="<u2"))
    write("u4.npy", np.array([0, 4294967295], dtype="<u4"))
    write("b1.npy", np.array([[True, False], [False, True]], dtype="|b1"))

    # Fortran order: stored column-major, read back in C order.
    write("fortran_f4.npy", np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)))
    write("fortran_i8.npy", np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)))

    # Degenerate shapes.
    write("scalar_f4.npy", np.array(3.5, dtype=np.float32))
    write("empty_f4.npy", np.zeros((0, 3), dtype=np.float32))

    # Big-endian: byte-swapped on read.
    write("be_f4.npy", np.array([1.0, -2.5, 3.25], dtype=">f4"))
    write("be_i8.npy", np.array([1, -2, 2 ** 40], dtype=">i8"))
    write("be_f8.npy", np.array([0.5, -4.0], dtype=">f8"))

    # Archives: np.savez stores members, np.savez_compressed deflates them.
    images = (np.arange(5 * 64, dtype=np.float32) / 64.0).reshape(5, 1, 8, 8)
    labels = np.array([0, 1, 2, 3, 9], dtype=np.int64)
    np.savez(path("stored.npz"), images=images, labels=labels)
    np.savez_compressed(path("compressed.npz"), images=images, labels=labels)

    # Validation inputs.
    write("images_f4.npy", images)
    write("images_f8.npy", images.astype(np.float64))
    write("images_u1.npy", (np.arange(5 * 64) % 256).astype(np.uint8).reshape(5, 1, 8, 8))
    write("images_wrong_shape.npy", np.zeros((5, 64), dtype=np.float32))
    write("images_wrong_dims.npy", np.zeros((5, 1, 8, 9), dtype=np.float32))
    write("tokens_i4.npy", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32))
    write("labels_i8.npy", labels)
    write("labels_i4.npy", labels.astype(np.int32))
    write("labels_out_of_range.npy", np.array([0, 1, 10, 3, -1], dtype=np.int64))
    write("labels_f4.npy", labels.astype(np.float32))
    write("labels_2d.npy", labels.reshape(5, 1))

    # Error cases.
    full = open(path("f4_v1.npy"), "rb").read()
    with open(path("truncated.npy"), "wb") as f:
        f.write(full[:-10])  # 48 data bytes expected, 38 present
    with open(path("trailing.npy"), "wb") as f:
        f.write(full + b"\x00\x00\x00\x00")
    with open(path("bad_magic.npy"), "wb") as f:
        f.write(b"PK\x03\x04 this is not a numpy file at all")
    with open(path("bad_version.npy"), "wb") as f:
        f.write(full[:6] + b"\x09\x00" + full[8:])
    with open(path("short_header.npy"), "wb") as f:
        f.write(full[:8] + b"\x76")  # header length cut in half
    with open(path("header_overflow.npy"), "wb") as f:
        f.write(full[:8] + struct.pack("<H", 5000) + full[10:40])
    write("complex.npy", np.array([1 + 2j], dtype="<c8"))
    write("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]))
    with open(path("missing_shape.npy"), "wb") as f:
        f.write(npy_with_header("{'descr': '<f4', 'fortran_order': False, }", b"\x00" * 4))
    with open(path("garbled_header.npy"), "wb") as f:
        f.write(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4 }", b""))
    with open(path("negative_dim.npy"), "wb") as f:
        f.write(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", b""))
    with open(path("odd_header.npy"), "wb") as f:
        # Keys in another order, double quotes, no spaces, no trailing comma, a list for the shape.
        f.write(npy_with_header('{"shape":[2,1],"fortran_order":True,"descr":"<i4"}',
                                struct.pack("<2i", 7, -7)))
    with open(path("not_a_zip.npz"), "wb") as f:
        f.write(b"\x93NUMPY but not a zip archive")


def npy_with_header(header, data):
    """A hand-made version 1.0 file with an arbitrary header text, padded like NumPy does."""
    text = header.encode("latin1")
    total = 10 + len(text) + 1
    pad = (64 - total % 64) % 64
    text = text + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


if __name__ == "__main__":
    main()
