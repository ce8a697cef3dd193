#!/usr/bin/env bash
# The Docker path of the build-and-test matrix, end to end on one CPU machine (what .ci/run calls):
#   1. Debian's docker.io (and debootstrap) when missing      4. the default toolkit's image (flash-mla-dev)
#   2. dockerd in the background when none answers            5. nox build: cross-compile every target once,
#   3. the local base image (debootstrap + docker import)        check the cubins with cuobjdump
#                                                             6. nox test-sm80/86/89/90 + tests in the image
# Every step prints its wall time; the summary at the end repeats them.
#
#   ci/docker_ci.sh [--cuda X.Y] [--runtime]
#     --cuda X.Y   toolkit row of ci/matrix.json (default: its default_cuda)
#     --runtime    also build and smoke-test the runtime image (reuses the wheel; no second compile)
#
# Environment: FLASH_MLA_CA_CERT (extra CA bundle handed to image builds as a BuildKit secret; default: the
# system bundle when a TLS-intercepting proxy is in use, see below), FLASH_MLA_DOCKER (docker client),
# FLASH_MLA_DOCKER_MIN_FREE_GB (default 30: below this much free space under Docker's root, unused images and the
# build cache are pruned before anything is built).
set -euo pipefail
cd "$(dirname "$0")/.."

cuda="" runtime=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=$2; shift 2 ;;
    --cuda=*) cuda=${1#--cuda=}; shift ;;
    --runtime) runtime=1; shift ;;
    *) echo "docker_ci: unknown argument $1" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
cuda=${cuda:-$("$python" ci/matrix.py get default_cuda)}
summary=()
ci_start=$SECONDS

step() { # step NAME COMMAND...: run, time, record
  local name=$1 start=$SECONDS
  shift
  echo "::: docker_ci: $name"
  "$@"
  local took=$((SECONDS - start))
  summary+=("$(printf '%5d s  %s' "$took" "$name")")
  echo "::: docker_ci: $name took ${took} s"
}

install_docker() {
  local need=()
  [ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ] || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  if [ ${#need[@]} -eq 0 ]; then
    echo "docker.io and debootstrap are installed"
    return
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

start_dockerd() {
  if "$FLASH_MLA_DOCKER" info >/dev/null 2>&1; then
    echo "dockerd is running"
    return
  fi
  # Nothing keeps a daemon between runs here: start one, detached, and wait for its socket.
  nohup dockerd >/var/log/flash-mla-dockerd.log 2>&1 &
  for _ in $(seq 60); do
    "$FLASH_MLA_DOCKER" info >/dev/null 2>&1 && return
    sleep 1
  done
  echo "docker_ci: dockerd did not answer within 60 s; its log:" >&2
  tail -30 /var/log/flash-mla-dockerd.log >&2
  return 1
}

free_gb() { df -P -B1G "$1" | awk 'NR == 2 { print $4 }'; }

make_disk_room() {
  # A runner that keeps /var/lib/docker between runs gains one dangling runtime image (~5.5 GB: torch and its CUDA
  # libraries under each new wheel) per run; its disk filled after a dozen runs (pip: "No space left on device").
  # Dangling images and stopped containers always go; below the floor, every image no container uses and the
  # BuildKit cache go too (the base and toolkit images are then rebuilt: minutes, not a failed run).
  local root floor=${FLASH_MLA_DOCKER_MIN_FREE_GB:-30} free
  root=$("$FLASH_MLA_DOCKER" info --format '{{.DockerRootDir}}')
  "$FLASH_MLA_DOCKER" container prune -f >/dev/null
  "$FLASH_MLA_DOCKER" image prune -f | tail -1
  free=$(free_gb "$root")
  echo "free under $root: $free GB (floor $floor GB)"
  if [ "$free" -lt "$floor" ]; then
    "$FLASH_MLA_DOCKER" image prune -a -f | tail -1
    "$FLASH_MLA_DOCKER" builder prune -a -f | tail -1
    free=$(free_gb "$root")
    echo "after pruning unused images and the build cache: $free GB free under $root"
    [ "$free" -ge "$floor" ] || echo "docker_ci: warning: only $free GB free under $root; the images need ~25 GB" >&2
  fi
  "$FLASH_MLA_DOCKER" system df
}

install_nox() {
  "$python" -m nox --version >/dev/null 2>&1 || "$python" -m pip install -q nox
  "$python" -m nox --version
}

nox_docker() { # sessions..., run on the host with the docker backend (each session runs inside the image)
  "$python" -m nox --no-venv -s "$@" -- --backend docker --cuda "$cuda"
}

# Debian's 20.10 client runs BuildKit builds without the buildx plugin, which newer clients need.
export FLASH_MLA_DOCKER=${FLASH_MLA_DOCKER:-/usr/bin/docker}
# Behind a TLS-intercepting proxy the system bundle holds its CA: image builds get it as a secret.
if [ -z "${FLASH_MLA_CA_CERT:-}" ] && [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  export FLASH_MLA_CA_CERT=/etc/ssl/certs/ca-certificates.crt
fi
export CI=${CI:-1}

step "install docker.io and debootstrap" install_docker
step "start dockerd" start_dockerd
step "disk room for the images" make_disk_room
step "nox on the host" install_nox
base=$("$python" ci/matrix.py get local_base_image "$cuda")  # empty: the row starts from a registry image
if [ -n "$base" ]; then
  suite=$("$python" ci/matrix.py get debian_suite "$cuda")
  step "base image $base (debootstrap $suite, docker import)" \
    env DOCKER="$FLASH_MLA_DOCKER" DEBIAN_SUITE="$suite" docker/bootstrap_base.sh "$base"
fi
# The build session builds the toolkit image first (layer-cached afterwards), then compiles in it.
step "nox -s build (toolkit image CUDA $cuda, cross-compile, cuobjdump checks)" nox_docker build
for session in $("$python" ci/matrix.py get sessions) tests; do
  step "nox -s $session (in the image; reuses the wheel)" nox_docker "$session"
done
if [ "$runtime" = 1 ]; then
  step "nox -s docker-build (runtime image, smoke test)" nox_docker docker-build
fi

echo "::: docker_ci: summary (CUDA $cuda, $(nproc) cores)"
printf '%s\n' "${summary[@]}"
printf '%5d s  total\n' "$((SECONDS - ci_start))"
