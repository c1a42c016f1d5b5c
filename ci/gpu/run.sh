#!/usr/bin/env bash
# All of xpnet's GPU work in one command, for a bare, offline CUDA machine (the device
# tool's H100/H200: Python 3.12 with torch+CUDA, JAX+CUDA, CuPy cuda13x, numpy, h5py,
# pytest, pytest-benchmark, matplotlib, hypothesis; no package index).
#
#   ci/gpu/run.sh [--part all|tests|bench|setup] [OUT]  (OUT also from $XPNET_GPU_OUT;
#                                                        default ./report-gpu)
#   --part setup: the install and the environment record alone (a first check)
#
# Steps (each logs to OUT/run.log and the next runs whatever it returned):
#   setup   a venv with --system-site-packages over python3 (the image's python is itself
#           a venv, so its site-packages are added with a .pth file), the wheels of
#           ci/gpu/requirements.txt from ci/gpu/wheels/ (pip --no-index --find-links; fetch
#           them beforehand with ci/gpu/fetch_wheels.sh), xpnet itself with --no-deps
#   env     OUT/env.json + OUT/nvidia-smi.txt: GPU, driver, CUDA, library versions
#   tests   (part tests) the test suite on XPNET_BACKENDS=numpy,cupy,torch-cuda,jax (JAX
#           on its GPU, x64 enabled by tests/conftest.py): OUT/junit.xml, OUT/tests.log
#   bench   (part bench) one pytest-benchmark run per suite, each under its own time
#           limit (SIGINT at the limit, so the cells done so far are still written):
#           OUT/raw/<suite>.json, OUT/raw/<suite>.log
#   report  ci/report.py over OUT/raw/*.json (+ OUT/junit.xml): OUT/report.md,
#           OUT/results.json, OUT/speedups.json, the plots
#
# Time plan (seconds; estimates until the first GPU run's OUT/timing.txt replaces them):
#   part tests: setup 20 + env 10 + tests 360 (limit; 4 backend ids x ~350 tests)  ~ 390 s
#   part bench: setup 20 + env 10 + vectorization 170 (336 cells: NumPy vectorized 48,
#               GPU 2 x 144, GPU loop cells estimated over 0.1 s skipped) + dot 40
#               + roofline 75 (16 cells, 2 s paired each) + latency 45 (floor, 4 cells)
#               + peers 135 (24 cells; torch.compile ~20 s a cell) + report 20        ~ 515 s
#   part all  : both, ~ 900 s: more than one 10-minute device command; use the two parts,
#               each with XPNET_GPU_DEADLINE_S=540.
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
: "${XPNET_GPU_T_TESTS:=360}" "${XPNET_GPU_T_VECTORIZATION:=170}" "${XPNET_GPU_T_DOT:=40}"
: "${XPNET_GPU_T_ROOFLINE:=75}" "${XPNET_GPU_T_LATENCY:=45}" "${XPNET_GPU_T_PEERS:=135}"
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
    export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
fi
step env 16 60 "$PY" ci/gpu/env.py "$out"

# ----------------------------------------------------------------------------- tests
if [ "$part" = all ] || [ "$part" = tests ]; then
    export XPNET_BACKENDS="$XPNET_GPU_TEST_BACKENDS"
    step tests 2 "$XPNET_GPU_T_TESTS" \
        "$PY" -m pytest tests -q -rs -p no:cacheprovider --junitxml="$out/junit.xml"
fi

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
    # Vectorization: NumPy's vectorized column (its loop columns are in the CPU report),
    # every impl on the GPUs (loop cells over their 0.1 s budget are skipped, labelled).
    step vectorization 4 "$XPNET_GPU_T_VECTORIZATION" bench_suite vectorization "numpy,$gpu" \
        -k "not (numpy and (loops or per_example))"
    step dot 4 "$XPNET_GPU_T_DOT" bench_suite dot "numpy,$gpu"
    # Roofline and peers on the GPUs only (NumPy's are in the CPU report).
    step roofline 4 "$XPNET_GPU_T_ROOFLINE" bench_suite roofline "$gpu" -k "not numpy"
    # The floor before the peers: the peers' torch.compile cells are the slowest, and what
    # the deadline cuts should be the last of them.
    step latency 4 "$XPNET_GPU_T_LATENCY" bench_suite latency "$gpu"
    step peers 4 "$XPNET_GPU_T_PEERS" bench_suite peers "$gpu" -k "${XPNET_GPU_PEERS_K:-cuda or cupy}"
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
