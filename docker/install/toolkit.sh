#!/bin/sh
# torch and the CUDA toolkit for one row of ci/matrix.json, then /usr/local/cuda as a CUDA_HOME.
#   toolkit.sh CUDA_VERSION TORCH_VERSION
# The toolkit comes from the base image when it has one (/usr/local/cuda/bin/nvcc: nvidia/cuda devel
# images), else from NVIDIA's PyPI wheels. Only CUDA 13 wheels carry a whole nvcc (cudafe++, cicc,
# fatbinary, nvlink); the CUDA 12 `nvidia-cuda-nvcc-cu12` wheels hold ptxas alone, so 12.x rows name
# an nvidia/cuda base image.
set -eu
cuda=${1:-} torch=${2:-}
if [ -z "$cuda" ] || [ -z "$torch" ]; then
  echo "toolkit.sh: build args CUDA_VERSION and TORCH_VERSION are required (nox -s docker-build passes them from ci/matrix.json)" >&2
  exit 2
fi
here=$(dirname "$0")
major=${cuda%%.*}

if [ -x /usr/local/cuda/bin/nvcc ]; then
  # nvidia/cuda devel images: nvcc, headers and cuobjdump are all there already.
  echo "toolkit.sh: CUDA toolkit from the base image: $(/usr/local/cuda/bin/nvcc --version | tail -1)"
  "$here/pip.sh" install -q "torch==$torch"
elif [ "$major" -ge 13 ]; then
  # cuobjdump (artifact checks) has wheels from 13.2 on only; any of them reads CUDA 12 and 13 cubins.
  "$here/pip.sh" install -q "torch==$torch" "cuda-toolkit[nvcc,crt,nvvm,cccl,cudart]==${cuda}.*" nvidia-cuda-cuobjdump
  python "$here/cuda_home.py" /usr/local/cuda
else
  echo "toolkit.sh: CUDA $cuda: PyPI's nvidia-cuda-nvcc-cu12 wheels ship ptxas only; build FROM an nvidia/cuda:${cuda}.x-devel image (base_image in ci/matrix.json)" >&2
  exit 2
fi
