#!/usr/bin/env bash
# The GPU checks, from a bare start on a lent GPU machine, in well under 5 minutes:
#   1. install what is missing (carried wheels in .whl/, if any; nothing is downloaded),
#   2. run the backend tests on CUDA with PyTorch and CuPy (tests/engines/test_gpu.py, tests/engines/test_array_api.py),
#   3. time one gradient-descent step on the GPU against the CPU (benchmarks/gpu_bench.py).
# Usage: scripts/gpu_check.sh [--dry-run]     (--dry-run: no GPU needed; tiny sizes; CPU only)
# Results: $OUT/gpu_results.md and $OUT/gpu_tests.log when OUT is set, else ./gpu-results/.
set -euo pipefail
cd "$(dirname "$0")/.."
dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1
out="${OUT:-gpu-results}"
mkdir -p "$out"
python=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}

if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/logreg-site .whl/*.whl
  export PYTHONPATH="/tmp/logreg-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

"$python" - <<'PY'
import importlib
for name in ("numpy", "scipy", "sklearn", "array_api_compat", "safetensors", "numba", "torch", "cupy"):
    try:
        module = importlib.import_module(name)
        print(f"{name:18} {getattr(module, '__version__', '?')}")
    except Exception as error:
        print(f"{name:18} missing ({type(error).__name__})")
PY
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "no nvidia-smi"

if [ "$dry_run" = 1 ]; then
  "$python" -m pytest -q -p no:cacheprovider tests/engines/test_gpu.py tests/engines/test_array_api.py 2>&1 | tee "$out/gpu_tests.log"
  "$python" benchmarks/gpu_bench.py --small --repeats 2 --out "$out/gpu_results.md"
  exit 0
fi
timeout 150 "$python" -m pytest -q -p no:cacheprovider -rs tests/engines/test_gpu.py tests/engines/test_array_api.py \
  2>&1 | tee "$out/gpu_tests.log"
timeout 150 "$python" benchmarks/gpu_bench.py --out "$out/gpu_results.md"
