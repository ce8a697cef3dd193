#!/bin/sh
# torch and the CUDA toolkit for one row of ci/matrix.json, then /usr/local/cuda as a CUDA_HOME.
#   toolkit.sh CUDA_VERSION TORCH_VERSION "CUDA_WHEELS" "CUDA_PACKAGES"
# The row's "toolkit" field (ci/matrix.py) says where nvcc comes from:
#   image   the base image has it (/usr/local/cuda/bin/nvcc: nvidia/cuda devel images)
#   pypi    NVIDIA's PyPI wheels named in CUDA_WHEELS (a whole nvcc from CUDA 13 on: CUDA 12's
#           `nvidia-cuda-nvcc-cu12` holds ptxas alone)
#   debian  Debian's packages named in CUDA_PACKAGES (nvidia-cuda-toolkit, non-free), linked into
#           /usr/local/cuda below
set -eu
cuda=${1:-} torch=${2:-} wheels=${3:-} packages=${4:-}
if [ -z "$cuda" ] || [ -z "$torch" ]; then
  echo "toolkit.sh: build args CUDA_VERSION and TORCH_VERSION are required (nox -s docker-build passes them from ci/matrix.json)" >&2
  exit 2
fi
here=$(dirname "$0")

# Debian's layout: /usr/bin/nvcc is a script that puts /usr/lib/nvidia-cuda-toolkit/bin (the real nvcc,
# cicc, and gcc/g++ shims that pick a g++ this nvcc supports) first on PATH; ptxas, fatbinary, nvlink,
# cudafe++, cuobjdump are in /usr/bin; headers (CUDA, libcu++, CUB, Thrust) in /usr/include; libraries in
# /usr/lib/<multiarch>; libdevice in /usr/lib/nvidia-cuda-toolkit/libdevice (nvcc.profile points there).
# torch's extension builder wants one CUDA_HOME with bin/nvcc, include/ and lib64/: link one together.
# (-I/usr/local/cuda/include is /usr/include: gcc drops an -I of a system directory, so the order of the
# system headers stays as it is.)
debian_cuda_home() {
  prefix=/usr/local/cuda
  multiarch=$(gcc -dumpmachine)
  mkdir -p "$prefix/bin" "$prefix/nvvm"
  for tool in nvcc ptxas fatbinary nvlink cudafe++ cuobjdump nvdisasm nvprune bin2c cu++filt; do
    if [ -x "/usr/bin/$tool" ]; then
      ln -sf "/usr/bin/$tool" "$prefix/bin/$tool"
    fi
  done
  ln -sfn /usr/include "$prefix/include"
  ln -sfn "/usr/lib/$multiarch" "$prefix/lib64"
  ln -sfn lib64 "$prefix/lib"
  ln -sfn /usr/lib/nvidia-cuda-toolkit/libdevice "$prefix/nvvm/libdevice"
}

if [ -x /usr/local/cuda/bin/nvcc ]; then
  # nvidia/cuda devel images: nvcc, headers and cuobjdump are all there already.
  echo "toolkit.sh: CUDA toolkit from the base image: $(/usr/local/cuda/bin/nvcc --version | tail -1)"
  "$here/pip.sh" install -q "torch==$torch"
elif [ -n "$packages" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # a word list on purpose
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  rm -rf /var/lib/apt/lists/*
  debian_cuda_home
  echo "toolkit.sh: CUDA toolkit from Debian's packages ($packages): $(/usr/local/cuda/bin/nvcc --version | tail -1)"
  "$here/pip.sh" install -q "torch==$torch"
elif [ -n "$wheels" ]; then
  # shellcheck disable=SC2086 # a word list on purpose
  "$here/pip.sh" install -q "torch==$torch" $wheels
  python "$here/cuda_home.py" /usr/local/cuda
else
  echo "toolkit.sh: no /usr/local/cuda/bin/nvcc in the base image and neither CUDA_WHEELS nor CUDA_PACKAGES for CUDA $cuda (ci/matrix.json: give the row a toolkit of pypi, debian or image)" >&2
  exit 2
fi
