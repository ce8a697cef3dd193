#!/bin/sh
# torch and the CUDA toolkit for one row of ci/matrix.json, then /usr/local/cuda as a CUDA_HOME.
#   toolkit.sh CUDA_VERSION TORCH_VERSION "CUDA_WHEELS"
# The toolkit comes from the base image when it has one (/usr/local/cuda/bin/nvcc: nvidia/cuda devel
# images), else from NVIDIA's PyPI wheels named by the matrix (ci/matrix.py Toolkit.wheels). Only CUDA 13
# wheels carry a whole nvcc (cudafe++, cicc, fatbinary, nvlink); CUDA 12's `nvidia-cuda-nvcc-cu12` holds
# ptxas alone, so 12.x rows name an nvidia/cuda base image.
set -eu
cuda=${1:-} torch=${2:-} wheels=${3:-}
if [ -z "$cuda" ] || [ -z "$torch" ]; then
  echo "toolkit.sh: build args CUDA_VERSION and TORCH_VERSION are required (nox -s docker-build passes them from ci/matrix.json)" >&2
  exit 2
fi
here=$(dirname "$0")

if [ -x /usr/local/cuda/bin/nvcc ]; then
  # nvidia/cuda devel images: nvcc, headers and cuobjdump are all there already.
  echo "toolkit.sh: CUDA toolkit from the base image: $(/usr/local/cuda/bin/nvcc --version | tail -1)"
  "$here/pip.sh" install -q "torch==$torch"
elif [ -n "$wheels" ]; then
  # shellcheck disable=SC2086 # a word list on purpose
  "$here/pip.sh" install -q "torch==$torch" $wheels
  python "$here/cuda_home.py" /usr/local/cuda
else
  echo "toolkit.sh: no /usr/local/cuda/bin/nvcc in the base image and no CUDA_WHEELS for CUDA $cuda (PyPI has a whole nvcc from CUDA 13 on; 12.x rows need an nvidia/cuda:${cuda}.x-devel base image)" >&2
  exit 2
fi
