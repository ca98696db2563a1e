#!/bin/sh
# Builds what the container image ships: a static lrs binary (no cgo, so it
# runs on an empty base image), the CA certificates for TLS to MongoDB, and
# the data directory. The Dockerfile runs this script, and CI runs the same
# script (deploy/deploy_test.go), so CI checks what the image holds.
#
# Usage, from the repository root:  OUT=/tmp/out VERSION=1.2.3 deploy/build.sh
#
# The compiler flags are go test's with CGO_ENABLED=0 (no -trimpath: the
# image builds in /src whatever the machine, so its paths say nothing), so
# that CI, whose tests run with CGO_ENABLED=0, links this binary from the
# packages the tests compiled instead of compiling them all again.
set -eu
OUT=${OUT:?set OUT to the output directory}
VERSION=${VERSION:-dev}
mkdir -p "$OUT/data"
CGO_ENABLED=0 go build -ldflags "-s -w -X main.version=$VERSION" -o "$OUT/lrs" ./cmd/lrs
cp /etc/ssl/certs/ca-certificates.crt "$OUT/ca-certificates.crt"
