#!/usr/bin/env python3
"""The reference's torch version and the BLAS it runs, as one JSON line, for bench/compare.sh's table.
Run through the reference wrapper (pytorch2-ref or pytorch-ref), which picks the interpreter and libraries."""
import json
import re

import torch

config = torch.__config__.show()
blas = re.search(r"BLAS_INFO=([^,\s]+)", config)
library = next((line.strip("- ").strip() for line in config.splitlines()
                if "Math Kernel Library Version" in line or "OpenBLAS" in line), None)
mapped = next((v for v in ("openblas-openmp", "openblas-pthread", "openblas-serial")
               if "/" + v + "/" in open("/proc/self/maps").read()), None)
print(json.dumps({"torch": torch.__version__, "blas": mapped or (blas.group(1) if blas else "unknown"),
                  "blas_library": library}))
