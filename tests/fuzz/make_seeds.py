#!/usr/bin/env python3
"""Write small seed inputs for the fuzz harnesses (standard library only).

    make_seeds.py OUTDIR    writes OUTDIR/npy/*.npy and OUTDIR/calibration/*.json

The .npy seeds cover what the reader accepts (1-D and 2-D '<f8', format
versions 1.0, 2.0 and 3.0, Python 2 'L' extents, odd whitespace) and the
nearest things it must refuse (fortran_order, '>f8', '<f4', 3-D, NaN, a
truncated file), so the fuzzer starts beside every branch of the header
parser. The shape seeds are the repository's shapes/*.json, copied by make.
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
