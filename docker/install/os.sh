#!/bin/sh
# OS packages and the Python venv (/opt/venv) that every stage uses; works on Debian and Ubuntu bases
# (the local debootstrapped base, nvidia/cuda images).
#   os.sh runtime   python3 + venv + CA certificates          (base and runtime stages)
#   os.sh toolkit   + a C++ compiler, Python headers, ccache  (toolkit stage)
set -eu
case "${1:?runtime or toolkit}" in
  runtime) pkgs="ca-certificates python3 python3-venv" ;;
  toolkit) pkgs="g++ python3-dev ccache" ;;
  *) echo "os.sh: unknown package set $1" >&2; exit 2 ;;
esac
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # a word list on purpose
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
rm -rf /var/lib/apt/lists/*
if [ "$1" = runtime ] && [ ! -x /opt/venv/bin/python ]; then
  python3 -m venv /opt/venv
  /opt/venv/bin/python --version
fi
