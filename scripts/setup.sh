#!/usr/bin/env bash
# Installs the system libraries mpq links (OpenBLAS, oneDNN, GLPK, NLopt) and builds the `mpq` tool.
# Needs root for apt-get (as on the project's machines); skips packages already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libopenblas-dev libglpk-dev libnlopt-dev libdnnl-dev pkg-config)
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${packages[@]}" >/dev/null
fi
swift build -c release --product mpq >&2
