#!/bin/sh
# Builds sesame's container image, offline: the static binary first, then
# the image around it (see the Dockerfile). Run from anywhere:
#
#   dist/docker/build.sh [TAG] [docker build options...]    (TAG: sesame)
#
# `sesame version` of the image prints the commit too: -buildvcs=true
# stamps it in a git clone whatever GOFLAGS says; in a git worktree, where
# the go command stamps nothing (its .git is a file), it is passed with
# -ldflags -X main.commit; in a source tarball without .git there is none
# and the version is the number alone. The version and the full commit
# also become the image's OCI labels.
set -eu
cd "$(dirname "$0")/../.."
tag=${1:-sesame}
[ $# -gt 0 ] && shift

ldflags= rev=
if [ ! -d .git ] && rev=$(git rev-parse HEAD 2>/dev/null); then
	[ -z "$(git status --porcelain 2>/dev/null)" ] || rev="$rev+dirty"
	ldflags="-X main.commit=$rev"
fi
CGO_ENABLED=0 go build -trimpath -buildvcs=true -ldflags "$ldflags" -o dist/docker/sesame ./cmd/sesame

version=$(sed -n 's/^const Version = "\(.*\)"$/\1/p' cmd/sesame/version.go)
# (-trimpath keeps -ldflags out of the binary's build information.)
revision=$(go version -m dist/docker/sesame | sed -n 's/^[[:space:]]*build[[:space:]]*vcs.revision=//p')
revision=${revision:-$rev}
docker build --build-arg "VERSION=${version:-unknown}" --build-arg "REVISION=${revision:-unknown}" -t "$tag" "$@" .
