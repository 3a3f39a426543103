#!/usr/bin/env bash
# Builds the Java wrapper (com.localkms) and its tests, and runs them against a
# freshly built liblocalkms.so.
#
#   bash examples/java/run-tests.sh [LIB_DIR] [TEST_FILTER...]
#
# LIB_DIR holds liblocalkms.so (default: ../../target/debug beside this script,
# i.e. what `cargo build` makes). TEST_FILTERs are substrings of test names
# (ClassName.testMethod); none runs every test. Set KEEP_TMP=1 to keep the scratch
# folder. Needs javac/java 17+ (Debian: default-jdk-headless), JNA
# (Debian: libjna-java, /usr/share/java/jna.jar; override with JNA_JAR=...) and a
# C compiler (Debian: build-essential). Nothing is fetched from Maven Central.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
libdir="${1:-$here/../../target/debug}"
if [ "$#" -gt 0 ]; then shift; fi
jna_jar="${JNA_JAR:-/usr/share/java/jna.jar}"

missing=0
for tool in javac java; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run-tests.sh: '$tool' not found: install a JDK 17+, e.g. 'apt-get install -y default-jdk-headless'" >&2
    missing=1
  fi
done
if [ ! -f "$jna_jar" ]; then
  echo "run-tests.sh: JNA not found at $jna_jar: 'apt-get install -y libjna-java' (Debian), or set JNA_JAR" >&2
  missing=1
fi
if ! command -v cc >/dev/null 2>&1; then
  echo "run-tests.sh: 'cc' not found (needed for testdata/interop.c): 'apt-get install -y build-essential'" >&2
  missing=1
fi
if [ ! -f "$libdir/liblocalkms.so" ]; then
  echo "run-tests.sh: no liblocalkms.so in $libdir: run 'cargo build' in $repo first, or pass the folder" >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 2

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localkms-java.XXXXXX")"
if [ "${KEEP_TMP:-0}" = 1 ]; then
  echo "scratch folder kept: $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi

# The library under its SONAME, with the development symlink beside it: JNA
# finds liblocalkms.so through jna.library.path, the C helper links against it
# and finds liblocalkms.so.0 at run time through its rpath.
cp "$libdir/liblocalkms.so" "$tmp/liblocalkms.so.0"
ln -s liblocalkms.so.0 "$tmp/liblocalkms.so"

set -x
cc -std=c11 -Wall -Wextra -Werror -I"$repo/include" "$here/testdata/interop.c" \
  -L"$tmp" -llocalkms -Wl,-rpath,"$tmp" -o "$tmp/interop"
{ set +x; } 2>/dev/null

find "$here/src/main/java" "$here/src/test/java" -name '*.java' | LC_ALL=C sort > "$tmp/sources.txt"
set -x
javac -Xlint:all -Werror -encoding UTF-8 -cp "$jna_jar" -d "$tmp/classes" @"$tmp/sources.txt"
java -cp "$tmp/classes:$jna_jar" -Djna.library.path="$tmp" -Djna.nosys=false \
  -Dlocalkms.workdir="$tmp/work" -Dlocalkms.interop="$tmp/interop" \
  com.localkms.TestMain "$@"
