#!/bin/sh
# Install the Debian packages rnn_dist needs to build, test and run
# (iproute2, slurm-wlm and munge: the namespace test cluster and the local
# SLURM cluster of make test; time: GNU time's peak resident sets in the
# tests).
# Does nothing (and needs no root) when every package is already present.
# Usage: scripts/install-deps.sh [--with-torch] [--with-bench] [--with-fuzz]
#   --with-torch  also install python3-torch (only needed to regenerate
#                 the PyTorch fixtures and for the PyTorch columns of make bench)
#   --with-bench  also install what make bench compares against: python3-torch
#                 and libdnnl-dev (oneDNN, the fastest CPU RNN library)
#   --with-fuzz   also install clang and its sanitizer/libFuzzer runtime
#                 (only needed for make fuzz)
set -eu
pkgs="build-essential pkg-config make libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
hdf5-tools libopenblas-dev libcmocka-dev python3-h5py python3-numpy python3-matplotlib
iproute2 procps time slurm-wlm munge"
for opt in "$@"; do
  case "$opt" in
  --with-torch) pkgs="$pkgs python3-torch" ;;
  --with-bench) pkgs="$pkgs python3-torch libdnnl-dev" ;;
  --with-fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
  *) echo "install-deps: unknown option $opt" >&2 && exit 2 ;;
  esac
done
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
