#!/usr/bin/env bash
# Download the wheels ci/gpu/run.sh installs on the offline GPU machine: exactly the
# pinned lists ci/gpu/requirements.txt (installed into the run's venv) and
# ci/gpu/build-requirements.txt (the build backend of xpnet's own install), as binary wheels for CPython 3.12 on
# manylinux x86-64 (the GPU image's interpreter), into ci/gpu/wheels/ (git-ignored;
# carried to the machine with run's `carry`).
#
#   ci/gpu/fetch_wheels.sh [DEST]          # DEST defaults to ci/gpu/wheels
#   XPNET_WHEELS_PYTHON=3.11 ci/gpu/fetch_wheels.sh /tmp/w311   # same list for a local
#                                                               # offline-install check
#
# --no-deps: the list names every package the image lacks; the dependencies it does
# not name (numpy, ...) are on the image, and run.sh's install resolves against them
# offline, so a missing name fails there, loudly, rather than a wheel of numpy
# shadowing the image's own build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/wheels}"
pyver="${XPNET_WHEELS_PYTHON:-3.12}"
limit_mib=64   # the device tool's carry limit for the whole working tree

mkdir -p "$dest"
rm -f "$dest"/*.whl   # one version of each package: two would stop the install
python3 -m pip download --quiet --disable-pip-version-check \
    --no-deps --only-binary=:all: \
    --python-version "$pyver" --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform any \
    -r "$here/requirements.txt" -r "$here/build-requirements.txt" -d "$dest"

# every pinned name must have exactly one wheel
status=0
while read -r name version; do
    norm="$(echo "$name" | tr '[:upper:]-' '[:lower:]_')"
    n=$(find "$dest" -maxdepth 1 -iname "${norm}-${version}-*.whl" | wc -l)
    if [ "$n" -ne 1 ]; then
        echo "fetch_wheels: expected one wheel of $name==$version in $dest, found $n" >&2
        status=1
    fi
done < <(cat "$here/requirements.txt" "$here/build-requirements.txt" | grep -E '^[A-Za-z0-9]' | sed -E 's/==/ /')

# The device gets the tree without .git: stamp the commit (and a dirty tree) for env.py.
# Run this script again right before a device call, so the stamp names what is sent.
if git -C "$here" rev-parse HEAD >/dev/null 2>&1; then
    { git -C "$here" rev-parse HEAD
      [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ] && echo dirty
    } > "$dest/COMMIT"
    echo "fetch_wheels: stamped $(tr '\n' ' ' < "$dest/COMMIT")in $dest/COMMIT"
fi

kib=$(du -sk "$dest" | cut -f1)
echo "fetch_wheels: $(find "$dest" -maxdepth 1 -name '*.whl' | wc -l) wheels, ${kib} KiB in $dest (carry limit ${limit_mib} MiB for the whole tree)"
ls -1 "$dest"
if [ "$kib" -gt $((limit_mib * 1024 / 2)) ]; then
    echo "fetch_wheels: $dest is over half the carry limit" >&2
    status=1
fi
exit $status
