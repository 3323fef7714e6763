#!/bin/sh
# Build the newsbeam worker + launcher image from the repository root.
#
#   deploy/docker/build.sh IMAGE[:TAG] [docker build options...]
#   deploy/docker/build.sh --print-build-args     # what would be passed, nothing built
#
# BEAM_VERSION is read from pyproject.toml, where it is pinned once.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
beam_version=$(sed -n 's/^[[:space:]]*"apache-beam==\([^";]*\)".*/\1/p' "$root/pyproject.toml")
python_version=${PYTHON_VERSION:-3.11}
python_tag=$(printf '%s' "$python_version" | tr -d .)
if [ -z "$beam_version" ]; then
    echo "build.sh: no apache-beam==X pin found in pyproject.toml" >&2
    exit 1
fi
args="--build-arg BEAM_VERSION=$beam_version --build-arg PYTHON_VERSION=$python_version --build-arg PYTHON_TAG=$python_tag"
if [ "${1:-}" = "--print-build-args" ]; then
    echo "$args"
    exit 0
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE[:TAG] [docker build options...]" >&2
    exit 2
fi
image=$1
shift
# shellcheck disable=SC2086  # $args is a list of words
exec docker build $args -f "$root/deploy/docker/Dockerfile" -t "$image" "$@" "$root"
