"""Which BLAS this process loaded, and a loud warning on stderr when it is Debian's reference
BLAS (libblas3 alone, no OpenBLAS): PyTorch's and NumPy's products then run many times slower,
and every ratio against them is meaningless. Install libopenblas0-pthread (what the README's
figures used). Import after torch or numpy and call check()."""

import sys


def loaded_blas():
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line and "/" in line}
    except OSError:
        return []
    return sorted(paths)


def check():
    libs = loaded_blas()
    reference = [p for p in libs if "/blas/libblas.so" in p]
    if reference and not any("openblas" in p for p in libs):
        print(
            f"WARNING: this reference runs on the reference BLAS ({reference[0]}), not OpenBLAS: "
            "its products are many times slower and the ratios mean nothing. "
            "Install libopenblas0-pthread.",
            file=sys.stderr,
        )
    return libs
