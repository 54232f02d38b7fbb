#!/usr/bin/env bash
# Installs the Debian 12 packages sibsim needs (only those missing; apt-get update only then),
# then configures and builds sibsim in Release into BUILD_DIR (default: build/).
# Usage: scripts/setup.sh            (run as root, or with sudo available)
#        SIBSIM_EXTRA_PACKAGES="clang libclang-rt-14-dev" scripts/setup.sh   (more packages, e.g. for CI)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkgconf libeigen3-dev libboost-dev libyaml-cpp-dev libcli11-dev doctest-dev
          libbenchmark-dev libxlsxwriter-dev unzip libopenmpi-dev openmpi-bin
          pybind11-dev python3-pybind11 python3-dev python3-numpy python3-pandas
          ${SIBSIM_EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release ${SIBSIM_CMAKE_ARGS:-} >&2
cmake --build "$build_dir" -j "$(nproc)" >&2
