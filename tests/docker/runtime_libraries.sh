#!/usr/bin/env bash
# The image's runtime stage (the last FROM in docker/Dockerfile) must install a package for
# every shared library the binaries load, or the container dies at start with "error while
# loading shared libraries". No Docker engine runs where the tests run, so this checks it the
# way the image would fail: each library ldd resolves here must belong to a package that
# stage installs, or to one every debian:12-slim image has.
#   runtime_libraries.sh DOCKERFILE BINARY...
set -euo pipefail
dockerfile=$1
shift

# In every debian:12-slim: essential packages, and apt's own libstdc++6.
base=" libc6 libgcc-s1 libstdc++6 "
# The words of the runtime stage's `apt-get install` (continuations joined), options dropped.
stage=$(awk '/^FROM /{s=""} {s = s $0 "\n"} END{printf "%s", s}' "$dockerfile" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
installed=" $(grep -o 'apt-get install[^&]*' <<<"$stage" | tr -s ' \t' '\n' |
  grep -v -e '^-' -e '^apt-get$' -e '^install$' | tr '\n' ' ') "
[ "$installed" != "  " ] || { echo "no apt-get install in the last stage of $dockerfile"; exit 1; }

linked=$(for binary in "$@"; do ldd "$binary"; done)
libraries=$(awk '/=> \//{print $3}' <<<"$linked" | sort -u)
# dpkg's database names some files by their /lib path, others by their /usr/lib path: ask for
# every spelling in one call (dpkg -S is slow), then take the first that has an owner.
candidates() { local real; real=$(readlink -f "$1"); printf '%s\n' "$1" "$real" "${real#/usr}"; }
owners=$(for lib in $libraries; do candidates "$lib"; done | sort -u | xargs dpkg -S 2>/dev/null || true)

status=0
if grep 'not found' <<<"$linked"; then status=1; fi
for lib in $libraries; do
  package=
  for path in $(candidates "$lib"); do
    package=$(awk -v p="$path" '$2 == p {sub(/:.*/, "", $1); print $1; exit}' <<<"$owners")
    [ -n "$package" ] && break
  done
  if [ -z "$package" ]; then
    echo "$lib belongs to no Debian package"
    status=1
  elif [[ $base != *" $package "* && $installed != *" $package "* ]]; then
    echo "$lib comes from $package, which the runtime stage does not install"
    status=1
  fi
done
[ $status -eq 0 ] && echo "every library of $* comes from:$installed+ the base image"
exit $status
