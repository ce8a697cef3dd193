#!/usr/bin/env bash
# Make the local base image that docker/Dockerfile builds FROM by default, without any image registry:
# debootstrap a minimal Debian into a scratch folder, then `docker import` it.
#
#   docker/bootstrap_base.sh [IMAGE]        (default IMAGE: flash-mla/base:bookworm)
#
# Environment: DEBIAN_SUITE (bookworm), DEBIAN_COMPONENTS (main contrib non-free: the archive areas apt
# sees later; Debian's CUDA toolkit, nvidia-cuda-toolkit, is in non-free), DEBIAN_MIRROR
# (http://deb.debian.org/debian), DOCKER (docker client to use), FORCE=1 to rebuild an existing image.
# ci/matrix.py names the image and suite per toolkit row (`python ci/matrix.py get debian_suite CUDA`).
# Measured on the 2-core CI machine: about 25 s for debootstrap, 10 s for the import, 206 MB.
set -euo pipefail

image=${1:-flash-mla/base:bookworm}
suite=${DEBIAN_SUITE:-bookworm}
components=${DEBIAN_COMPONENTS:-main contrib non-free}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
docker=${DOCKER:-docker}

if [ "${FORCE:-0}" != 1 ] && "$docker" image inspect "$image" >/dev/null 2>&1; then
  echo "bootstrap_base: $image already exists (FORCE=1 rebuilds it)"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  echo "bootstrap_base: debootstrap is missing; on Debian/Ubuntu: apt-get install -y debootstrap" >&2
  exit 1
fi

# debootstrap needs root (hosted CI runners: passwordless sudo).
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/flash-mla-rootfs.XXXXXX")
trap '$sudo rm -rf "$rootfs"' EXIT

$sudo debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

# debootstrap only lists the release itself (main): add its updates and security suites, all components.
security=${mirror%/debian}/debian-security
$sudo tee "$rootfs/etc/apt/sources.list" >/dev/null <<SOURCES
deb $mirror $suite $components
deb $mirror $suite-updates $components
deb $security $suite-security $components
SOURCES
# Keep images small: no apt caches, docs or man pages from later installs.
$sudo tee "$rootfs/etc/dpkg/dpkg.cfg.d/flash-mla-nodoc" >/dev/null <<'NODOC'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
NODOC
# shellcheck disable=SC2016 # expanded by the inner shell
$sudo sh -c 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' sh "$rootfs"

$sudo tar -C "$rootfs" --numeric-owner -c . | "$docker" import \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
  --message "debootstrap --variant=minbase $suite $mirror ($components)" - "$image" >/dev/null
echo "bootstrap_base: built $image from $suite ($mirror; $components)"
