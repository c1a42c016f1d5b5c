#!/usr/bin/env bash
# All of xpnet's GPU work in one command, for a bare, offline CUDA machine (the device
# tool's H100/H200: Python 3.12 with torch+CUDA, JAX+CUDA, CuPy cuda13x, numpy, h5py,
# pytest, pytest-benchmark, matplotlib, hypothesis; no package index).
#
#   ci/gpu/run.sh [--part all|tests|bench|setup] [OUT]  (OUT also from $XPNET_GPU_OUT;
#                                                        default ./report-gpu)
#   --part setup: the install and the environment record alone (a first check)
#
# Steps (each logs to OUT/run.log and the next runs whatever it returned), in the order of
# what the GPU issue needs most, so that a deadline cuts the least useful work:
#   setup   a venv with --system-site-packages over python3 (the image's python is itself
#           a venv, so its site-packages are added with a .pth file), the wheels of
#           ci/gpu/requirements.txt from ci/gpu/wheels/ (pip --no-index --find-links; fetch
#           them beforehand with ci/gpu/fetch_wheels.sh, which also stamps the commit)
#   env     OUT/env.json + OUT/nvidia-smi.txt: GPU, driver, CUDA, library versions, commit
#   bench   (part bench) one pytest-benchmark run per suite, each under its own time
#           limit (SIGINT at the limit, so the cells done so far are still written):
#           roofline (n=2048 m=4096 only), peers (eager; torch.compile at [20, 8, 1] only),
#           latency, dot, vectorization (m 1..1e5 x n_x 10, 1000): OUT/raw/<suite>.json
#   tests   (part tests) the suite's backend-parametrized tests on
#           XPNET_BACKENDS=numpy,cupy,torch-cuda,jax (JAX on its GPU, x64 by
#           tests/conftest.py, float32 matmuls at full precision, no memory preallocation),
#           in XPNET_GPU_TEST_WORKERS pytest-xdist processes, not the slow ones, each test
#           at most 120 s: OUT/junit.xml, OUT/tests.log
#   optimizers (part bench) the Adam epoch's GPU cells (issue 9): xpnet on CuPy and
#           torch-CUDA against torch nn + Adam on CUDA, m = 60,000, batches of 64 and 1024;
#           after the tests, so a deadline cuts it first: OUT/raw/optimizers.json
#   report  ci/report.py over OUT/raw/*.json (+ OUT/junit.xml): OUT/report.md,
#           OUT/results.json, OUT/speedups.json, the plots
#
# Time plan (seconds; estimates until the first GPU run's OUT/timing.txt replaces them),
# for one device call of at most 540 s with XPNET_GPU_DEADLINE_S=480 (the device tool
# lends 15 minutes in all, the machine's start included):
#   setup 20 + env 10 + roofline 45 (~10 cells, 2 s paired each) + peers 100 (20 cells,
#   two torch.compile ~20 s each) + latency 40 + dot 20 + vectorization 90 (~170 cells, GPU
#   loop cells estimated over 0.1 s skipped, labelled) + tests 150 + report 20   ~ 495 s,
#   then the Adam epoch's GPU cells (45: 4 cells, ~10 s each) with whatever time is left
# A deadline shrinks each step's limit to what is left (keeping 45 s for the report).
# The per-suite limits are the XPNET_GPU_T_* variables below; a suite that reaches its
# limit keeps the cells it finished, and the report lists what is missing.
#
# Exit code: a bit per failed step, so one number says what failed:
#   1 setup (wheels or xpnet install)   2 tests failed or timed out
#   4 a benchmark suite failed or timed out   8 report   16 env record
set -uo pipefail

part=all
out="${XPNET_GPU_OUT:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --part) part="$2"; shift 2 ;;
        --part=*) part="${1#--part=}"; shift ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        -*) echo "run.sh: unknown option $1 (expected --part all|tests|bench|setup, then OUT)" >&2; exit 64 ;;
        *) out="$1"; shift ;;
    esac
done
case "$part" in all|tests|bench|setup) ;; *)
    echo "run.sh: --part $part is not known; expected all, tests, bench or setup" >&2; exit 64 ;;
esac

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${out:-$root/report-gpu}"
mkdir -p "$out/raw"
out="$(cd "$out" && pwd)"
cd "$root"
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg
log="$out/run.log"
: > "$out/timing.txt"

# Per-suite time limits (seconds) and the pytest-benchmark settings of a GPU run.
: "${XPNET_GPU_T_TESTS:=150}" "${XPNET_GPU_T_VECTORIZATION:=90}" "${XPNET_GPU_T_DOT:=20}"
: "${XPNET_GPU_T_ROOFLINE:=45}" "${XPNET_GPU_T_LATENCY:=40}" "${XPNET_GPU_T_PEERS:=100}"
: "${XPNET_GPU_T_OPTIMIZERS:=45}"
: "${XPNET_GPU_TEST_WORKERS:=6}"                 # pytest-xdist processes (16 cores, 1 GPU)
: "${XPNET_GPU_VEC_M:=1,10,100,1000,10000,100000}" "${XPNET_GPU_VEC_NX:=10,1000}"
: "${XPNET_GPU_BACKENDS:=cupy,torch-cuda}"       # GPU backends of the benchmarks
: "${XPNET_GPU_PYTHON:=python3}"                 # the image's interpreter
: "${XPNET_GPU_VENV:=/tmp/xpnet-gpu-venv}"
: "${XPNET_GPU_WHEELS:=$root/ci/gpu/wheels}"
: "${XPNET_GPU_TEST_BACKENDS:=numpy,cupy,torch-cuda,jax}"
# Interleaved (paired) timings get 2 s a cell on the GPU instead of 12 s (--xpnet-paired-s).
: "${XPNET_GPU_PAIRED_S:=2}"
# A loop cell's budget (--xpnet-budget): 2 s on the CPU (NumPy's loop cells are deselected
# below), so 0.1 s on a GPU, where every scalar operation of the loops is a kernel launch.
: "${XPNET_GPU_BUDGET:=2}"

status=0
start_s=$(date +%s)
# XPNET_GPU_DEADLINE_S: seconds the whole script may take (e.g. 540 inside a 600 s device
# command); each step's limit shrinks to what is left, keeping 45 s for the report.
deadline="${XPNET_GPU_DEADLINE_S:-0}"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }
# step NAME BIT LIMIT_S CMD...: run, log, time, record failure in the exit code's bit
step() {
    local name="$1" bit="$2" limit="$3"; shift 3
    local t0 rc left
    t0=$(date +%s)
    if [ "$deadline" -gt 0 ]; then
        local reserve=45
        [ "$name" = report ] && reserve=0
        left=$(( deadline - (t0 - start_s) - reserve ))
        if [ "$left" -lt 10 ]; then
            say "!! $name not run: the ${deadline}s deadline is reached"
            echo "$name 0 s, not run (deadline)" >>"$out/timing.txt"
            status=$(( status | bit ))
            return 0
        fi
        [ "$left" -lt "$limit" ] && limit=$left
    fi
    say "== $name (limit ${limit}s): $*"
    # bash -c: the command may be one of this script's functions (exported below);
    # SIGINT at the limit lets pytest finish its session and write the cells it has.
    timeout -s INT -k 30 "$limit" bash -c '"$@"' _ "$@" >>"$log" 2>&1
    rc=$?
    echo "$name $(( $(date +%s) - t0 )) s, rc $rc" | tee -a "$out/timing.txt" >>"$log"
    # pytest: 0 ok, 5 nothing collected (every cell skipped: not a failure of the run)
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
        say "!! $name failed (rc $rc$( [ "$rc" -eq 124 ] || [ "$rc" -eq 130 ] && echo ', time limit'))"
        status=$(( status | bit ))
    fi
    return 0
}

# ----------------------------------------------------------------------------- setup
setup() {
    "$XPNET_GPU_PYTHON" -m venv --system-site-packages --without-pip "$XPNET_GPU_VENV" || return 1
    local py="$XPNET_GPU_VENV/bin/python"
    # --system-site-packages exposes the *base* interpreter's packages; where python3 is
    # itself a venv (the image's /opt/torch/.venv), add that venv's site-packages too.
    "$XPNET_GPU_PYTHON" - "$py" <<'PY' || return 1
import site, subprocess, sys
from pathlib import Path
target = subprocess.check_output([sys.argv[1], "-c", "import site; print(site.getsitepackages()[0])"], text=True).strip()
if sys.prefix != sys.base_prefix:
    Path(target, "_xpnet_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    print(f"parent environment {sys.prefix} added to {target}")
PY
    "$py" -m pip --version || return 1
    # dependencies resolve offline against the image's packages: a missing one fails here
    "$py" -m pip install --no-index --find-links "$XPNET_GPU_WHEELS" \
        -r "$root/ci/gpu/requirements.txt" || return 1
    # xpnet itself, without dependencies; its build backend (setuptools, wheel) comes from
    # the same folder (ci/gpu/build-requirements.txt) into pip's isolated build
    "$py" -m pip install --no-index --find-links "$XPNET_GPU_WHEELS" --no-deps -e "$root" \
        || return 1
    "$py" -c "import xpnet, array_api_compat, array_api_strict; print('xpnet', xpnet.__file__)"
}

export root out log XPNET_GPU_PYTHON XPNET_GPU_VENV XPNET_GPU_WHEELS
export -f setup
say "xpnet GPU run: part=$part out=$out root=$root"
step setup 1 120 setup
PY="$XPNET_GPU_VENV/bin/python"
if ! "$PY" -c "import xpnet" >/dev/null 2>&1; then
    say "!! xpnet not importable from the venv; falling back to $XPNET_GPU_PYTHON with PYTHONPATH=src"
    PY="$XPNET_GPU_PYTHON"
    # the array-api wheels are pure Python: importable from the .whl files themselves
    shopt -s nullglob
    pure=("$XPNET_GPU_WHEELS"/array_api_*.whl)
    shopt -u nullglob
    extra="$(IFS=:; echo "${pure[*]}")"
    export PYTHONPATH="$root/src${extra:+:$extra}${PYTHONPATH:+:$PYTHONPATH}"
fi
step env 16 60 "$PY" ci/gpu/env.py "$out"

# ----------------------------------------------------------------------------- bench
bench_suite() {  # bench_suite SUITE BACKENDS [pytest args...]
    local suite="$1" backends="$2"; shift 2
    "$PY" -m pytest "benchmarks/bench_${suite}.py" -q -rs -p no:cacheprovider \
        --rootdir="$root" --benchmark-json="$out/raw/${suite}.json" \
        --benchmark-sort=fullname --benchmark-max-time=0.2 --benchmark-min-rounds=5 \
        --xpnet-backends="$backends" --xpnet-paired-s="$XPNET_GPU_PAIRED_S" \
        --xpnet-budget="$XPNET_GPU_BUDGET" "$@" >"$out/raw/${suite}.log" 2>&1
    local rc=$?
    tail -n 15 "$out/raw/${suite}.log"
    return $rc
}
export PY XPNET_GPU_PAIRED_S XPNET_GPU_BUDGET
export -f bench_suite
if [ "$part" = all ] || [ "$part" = bench ]; then
    gpu="$XPNET_GPU_BACKENDS"
    # Roofline at the target's size (the other sizes are in the CPU report), on the GPUs;
    # of the compiled steps only float32 (each torch.compile costs ~20 s).
    step roofline 4 "$XPNET_GPU_T_ROOFLINE" bench_suite roofline "$gpu" \
        -k "${XPNET_GPU_ROOFLINE_K:-not numpy and n2048 and (not compiled or float32)}"
    # Peers: every eager cell; torch.compile'd torch nn at the small-net target's cell only.
    step peers 4 "$XPNET_GPU_T_PEERS" bench_suite peers "$gpu" \
        -k "${XPNET_GPU_PEERS_K:-(cuda or cupy) and (not compiled or 20x8x1-m128-float32)}"
    step latency 4 "$XPNET_GPU_T_LATENCY" bench_suite latency "$gpu"
    step dot 4 "$XPNET_GPU_T_DOT" bench_suite dot "numpy,$gpu"
    # Vectorization: NumPy's vectorized column (its loop columns are in the CPU report),
    # every impl on the GPUs (loop cells over their 0.1 s budget are skipped, labelled).
    step vectorization 4 "$XPNET_GPU_T_VECTORIZATION" bench_suite vectorization "numpy,$gpu" \
        --xpnet-m="$XPNET_GPU_VEC_M" --xpnet-n-x="$XPNET_GPU_VEC_NX" \
        -k "not (numpy and (loops or per_example))"
fi

# ----------------------------------------------------------------------------- tests
if [ "$part" = all ] || [ "$part" = tests ]; then
    export XPNET_BACKENDS="$XPNET_GPU_TEST_BACKENDS"
    # JAX: float32 matmuls at full precision (its GPU default may use TF32, 1e-3 off the
    # NumPy reference the tests compare with at 1e-4), and no 75 % preallocation of the
    # GPU beside CuPy and torch in the same processes. Both are in env.json's record.
    export JAX_DEFAULT_MATMUL_PRECISION=highest XLA_PYTHON_CLIENT_PREALLOCATE=false
    # Only the tests parametrized by backend (the others are the CPU CI's), not the slow
    # ones; -n: pytest-xdist workers; a test stuck past 120 s fails alone.
    step tests 2 "$XPNET_GPU_T_TESTS" \
        "$PY" -m pytest tests -q -rs -p no:cacheprovider -m "not slow" \
        -k "${XPNET_GPU_TESTS_K:-numpy or cupy or torch-cuda or jax}" \
        -n "$XPNET_GPU_TEST_WORKERS" -p timeout --timeout=120 --junitxml="$out/junit.xml"
fi

# ----------------------------------------------------------------------------- bench, last
# The Adam epoch's GPU cells (issue 9) after the tests: the first work a deadline cuts.
if [ "$part" = all ] || [ "$part" = bench ]; then
    step optimizers 4 "$XPNET_GPU_T_OPTIMIZERS" bench_suite optimizers "$gpu" \
        -k "${XPNET_GPU_OPTIMIZERS_K:-cupy or cuda}"
fi

# ----------------------------------------------------------------------------- report
if [ "$part" = all ] || [ "$part" = bench ]; then
    shopt -s nullglob
    raws=("$out"/raw/*.json)
    junit=()
    [ -f "$out/junit.xml" ] && junit=(--junit "$out/junit.xml")
    if [ ${#raws[@]} -gt 0 ]; then
        step report 8 120 "$PY" ci/report.py "${raws[@]}" "${junit[@]}" --env "$out/env.json" \
            --timing "$out/timing.txt" --out "$out"
    else
        say "!! no benchmark results to report"
        status=$(( status | 8 ))
    fi
fi

say "done: exit code $status (1 setup, 2 tests, 4 bench, 8 report, 16 env); timing:"
cat "$out/timing.txt" | tee -a "$log"
exit $status
