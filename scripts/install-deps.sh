#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages the tests need and the machine lacks:
# a C/C++ toolchain and binutils (the C examples, nm, readelf), make, pkg-config
# (the install tests), OpenSSL's headers (the envelope example), Go (the cgo
# binding), a JDK, JNA and JUnit 5 with its console launcher (the Java binding),
# Python's venv module (the Python binding is tested installed in a virtual
# environment), PostgreSQL (the server the PostgreSQL store's tests run against,
# started by scripts/pg-cluster.sh). Python 3 and cargo are assumed. With package
# names as arguments, installs only those (scripts/pg-cluster.sh:
# `install-deps.sh postgresql`).
set -euo pipefail

packages=(build-essential binutils make pkg-config libssl-dev valgrind golang-go openjdk-17-jdk-headless libjna-java junit5 python3-venv postgresql)
if [ "$#" -gt 0 ]; then
  packages=("$@")
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "run as root or install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
