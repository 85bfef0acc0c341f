#!/usr/bin/env python3
"""Write small seed inputs for the fuzz harnesses (standard library only).

    make_seeds.py OUTDIR    writes OUTDIR/npy/*.npy and OUTDIR/calibration/*.json

The .npy seeds cover what the reader accepts (1-D, 2-D and 3-D arrays;
float64, float32 and every integer width, signed and unsigned; '<', '>', '='
and '|' byte orders; C and Fortran order; format versions 1.0, 2.0 and 3.0,
Python 2 'L' extents, odd whitespace) and the nearest things it must refuse
(4-D, bool, float16, complex, '|' on a wide type, an int64 beyond 2^53, NaN,
a truncated file), so the fuzzer starts beside every branch of the header
parser and of the conversions. The shape seeds are the repository's
shapes/*.json, copied by make.
"""
import json
import os
import struct
import sys


def npy(header, payload=b"", major=1):
    """A .npy file with header padded to 64 bytes like NumPy's writer."""
    pre = 10 if major == 1 else 12
    text = header.encode("latin-1")
    pad = (-(pre + len(text) + 1)) % 64
    text = text + b" " * pad + b"\n"
    size = struct.pack("<H", len(text)) if major == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([major, 0]) + size + text + payload


def f8(values, fmt="<"):
    return struct.pack(fmt + "%dd" % len(values), *values)


def pack(code, values, fmt="<"):
    """values packed as struct code (d f b B h H i I q Q) in byte order fmt."""
    return struct.pack(fmt + "%d%s" % (len(values), code), *values)


def hdr(descr, shape, fortran=False):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)


def main(out):
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    os.makedirs(os.path.join(out, "calibration"), exist_ok=True)
    six = [0.5, -1.25, 3.0, 1e-300, -0.0, 2.0 ** 52]
    seeds = {
        "vec3": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8(six[:3])),
        "mat2x3": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f8(six)),
        "mat3x2_v2": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", f8(six), 2),
        "vec1_v3": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", f8([7.0]), 3),
        "py2_long": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }", f8(six[:2])),
        "reordered": npy('{"shape":(1,2),"fortran_order":False,"descr":"<f8"}', f8(six[:2])),
        "fortran": npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", f8(six)),
        "bigendian": npy("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", f8(six[:3], ">")),
        "float32": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", struct.pack("<2f", 1, 2)),
        "three_d": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", f8(six)),
        "three_d_fortran": npy(hdr("<f8", "(2, 1, 3)", True), f8(six)),
        "three_d_be_f4": npy(hdr(">f4", "(3, 2, 1)"), pack("f", six, ">"), 2),
        "four_d": npy(hdr("<f8", "(1, 2, 3, 1)"), f8(six)),
        "native": npy(hdr("=f8", "(6,)"), f8(six)),
        "int8": npy(hdr("|i1", "(2, 2)"), pack("b", [-128, -1, 0, 127])),
        "uint8": npy(hdr("|u1", "(4,)"), pack("B", [0, 1, 128, 255])),
        "int16_be_fortran": npy(hdr(">i2", "(2, 2)", True), pack("h", [-32768, 2, -3, 32767], ">")),
        "uint16": npy(hdr("<u2", "(3,)"), pack("H", [0, 256, 65535])),
        "int32_be": npy(hdr(">i4", "(3,)"), pack("i", [-(2 ** 31), 0, 2 ** 31 - 1], ">")),
        "uint32": npy(hdr("<u4", "(1, 3)"), pack("I", [0, 7, 2 ** 32 - 1])),
        "int64": npy(hdr("<i8", "(3,)"), pack("q", [-(2 ** 53), 5, 2 ** 53])),
        "uint64_be": npy(hdr(">u8", "(2,)"), pack("Q", [0, 2 ** 53], ">")),
        "int64_inexact": npy(hdr("<i8", "(2,)"), pack("q", [1, 2 ** 53 + 1])),
        "bool": npy(hdr("|b1", "(2,)"), b"\x00\x01"),
        "float16": npy(hdr("<f2", "(2,)"), b"\x00\x3c\x00\x40"),
        "complex": npy(hdr("<c16", "(1,)"), f8([1.0, -1.0])),
        "bar_wide": npy(hdr("|f8", "(1,)"), f8([1.0])),
        "nan": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8([1.0, float("nan")])),
        "zero_extent": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }"),
    }
    seeds["truncated"] = seeds["mat2x3"][:-12]
    for name, blob in seeds.items():
        with open(os.path.join(out, "npy", name + ".npy"), "wb") as f:
            f.write(blob)

    ceil = lambda flops, bw: {"fp64_flops": flops, "mem_bw": bw, "dgemm_n": 2048, "copy_bytes": 268435456}
    cals = {
        "host_only": {"schema": "saebench.calibration/1", "created": "2026-11-24T00:00:00Z",
                      "tool_version": "0.1.0", "host": {"ceilings": ceil(6.1e10, 1.2e10)},
                      "device": None, "device_reason": "no device backend in this build",
                      "exit_code": 0},
        "host_device": {"schema": "saebench.calibration/1", "host": {"ceilings": ceil(6.1e10, 1.2e10)},
                        "device": {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0",
                                   "ceilings": ceil(5.7e13, 2.95e12)}, "exit_code": 0},
        "device_only": {"schema": "saebench.calibration/1", "host": None,
                        "device": {"name": "GPU", "ceilings": ceil(1e13, 1e12)}},
        "bad_ceiling": {"schema": "saebench.calibration/1", "host": {"ceilings": ceil(-1, 1e10)}},
    }
    for name, obj in cals.items():
        with open(os.path.join(out, "calibration", name + ".json"), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUTDIR")
    main(sys.argv[1])
