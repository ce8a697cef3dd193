#!/bin/sh
# `python -m pip "$@"` behind a TLS-intercepting proxy. An extra CA certificate arrives as the
# BuildKit secret "cacert" (docker build --secret id=cacert,src=FILE); it is joined to the system
# bundle in a temporary folder that is gone before the layer is committed: never baked into an image.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ -s /run/secrets/cacert ]; then
  cat /etc/ssl/certs/ca-certificates.crt /run/secrets/cacert >"$tmp/ca.pem"
  export PIP_CERT="$tmp/ca.pem" SSL_CERT_FILE="$tmp/ca.pem" REQUESTS_CA_BUNDLE="$tmp/ca.pem"
fi
python -m pip --disable-pip-version-check "$@"
