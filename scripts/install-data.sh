#!/usr/bin/env bash
# Installs the full digit data the main job and the long examples need, if it is missing:
# Fashion-MNIST from Debian's package dataset-fashion-mnist (MIT/Expat, Zalando SE), into
# /usr/share/datasets/fashion-mnist/. Tests never need it: they use the committed subset.
set -euo pipefail
dir=/usr/share/datasets/fashion-mnist
if [ -f "$dir/train-images-idx3-ubyte.gz" ]; then
  echo "Fashion-MNIST present in $dir"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq dataset-fashion-mnist
echo "Fashion-MNIST installed in $dir"
