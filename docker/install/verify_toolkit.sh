#!/bin/sh
# After building a toolkit image, check that it is what ci/matrix.json declared and that it compiles.
#   verify_toolkit.sh CUDA_VERSION TORCH_VERSION "ARCHS"     (ARCHS as in FLASH_MLA_CUDA_ARCHS)
set -eu
cuda=$1 torch=$2 archs=${3:-}
nvcc_release=$("$CUDA_HOME/bin/nvcc" --version | sed -n 's/.*release \([0-9]*\.[0-9]*\).*/\1/p')
torch_info=$(python -c 'import torch; print(torch.__version__.split("+")[0], torch.version.cuda)')
# shellcheck disable=SC2086 # split "version cuda" into $1 $2
set -- $torch_info
fail() { echo "verify_toolkit: $*" >&2; exit 1; }
[ "$nvcc_release" = "$cuda" ] || fail "nvcc is $nvcc_release, matrix says $cuda"
[ "$1" = "$torch" ] || fail "torch is $1, matrix says $torch"
[ "${2%%.*}" = "${cuda%%.*}" ] || fail "torch $1 is built for CUDA $2; nvcc $cuda has another major version (torch's extension builder refuses that)"
cuobjdump=$(command -v cuobjdump || echo "$CUDA_HOME/bin/cuobjdump")
"$cuobjdump" --version >/dev/null || fail "no working cuobjdump"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <cuda_runtime.h>\n__global__ void k(float *x) { x[threadIdx.x] *= 2.f; }\n' >"$tmp/k.cu"
for arch in $(echo "$archs" | tr ';' ' '); do
  "$CUDA_HOME/bin/nvcc" -c -gencode "arch=compute_$arch,code=sm_$arch" -o "$tmp/k_$arch.o" "$tmp/k.cu" \
    || fail "nvcc $cuda cannot compile sm_$arch"
  "$cuobjdump" --list-elf "$tmp/k_$arch.o" | grep -q "sm_$arch" || fail "no sm_$arch cubin in the test object"
done
echo "verify_toolkit: nvcc $nvcc_release, torch $1 (CUDA $2), compiles: ${archs:-nothing asked}"
