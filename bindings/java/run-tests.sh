#!/usr/bin/env bash
# Builds the Java binding's jar (`make java`) and its JUnit 5 tests, and runs them
# with JUnit's console launcher against the jar and a freshly built liblocalkms,
# installed into a temporary prefix (bindings/test-prefix.sh).
#
#   bash bindings/java/run-tests.sh [LIBDIR] [LAUNCHER_ARGS...]
#
# LIBDIR holds liblocalkms.so, liblocalkms.a and localkms (default: target/debug,
# what `cargo build` makes). LAUNCHER_ARGS go to the console launcher, e.g.
# `--include-classname '.*ClockTest'` (default: every test class). Set KEEP_TMP=1
# to keep the scratch folder. Needs javac/java 17+ (Debian: openjdk-17-jdk-headless),
# JNA (libjna-java, /usr/share/java/jna.jar; or JNA_JAR=...) and JUnit 5 (junit5,
# /usr/share/java/junit-platform-console-standalone.jar; or JUNIT_CONSOLE_JAR=...).
# Nothing is fetched from Maven Central.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jna_jar="${JNA_JAR:-/usr/share/java/jna.jar}"
junit_jar="${JUNIT_CONSOLE_JAR:-/usr/share/java/junit-platform-console-standalone.jar}"

missing=0
for tool in javac java jar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run-tests.sh: '$tool' not found: install a JDK 17+, e.g. 'apt-get install -y openjdk-17-jdk-headless'" >&2
    missing=1
  fi
done
if [ ! -f "$jna_jar" ]; then
  echo "run-tests.sh: JNA not found at $jna_jar: 'apt-get install -y libjna-java' (Debian), or set JNA_JAR" >&2
  missing=1
fi
if [ ! -f "$junit_jar" ]; then
  echo "run-tests.sh: JUnit 5 not found at $junit_jar: 'apt-get install -y junit5' (Debian), or set JUNIT_CONSOLE_JAR" >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 2
# shellcheck source=../test-prefix.sh
source "$here/../test-prefix.sh" "${1:-}"
if [ "$#" -gt 0 ]; then shift; fi

# The jar, built in the scratch folder (a concurrent `make java` cannot change it).
make -s -C "$repo" --no-print-directory java JAVA_BUILD="$tmp/java" JNA_JAR="$jna_jar"
jar_file="$(ls "$tmp"/java/localkms-*.jar)"

find "$here/src/test/java" -name '*.java' | LC_ALL=C sort > "$tmp/test-sources.txt"
set -x
javac -Xlint:all -Werror -encoding UTF-8 --release 17 -cp "$jar_file:$jna_jar:$junit_jar" \
  -d "$tmp/test-classes" @"$tmp/test-sources.txt"
# jna.library.path: the prefix's lib folder, as a user passes it after
# `make install PREFIX=...` (with /usr/local JNA finds the library unaided).
java -Djna.library.path="$LOCALKMS_PREFIX/lib" -Djna.nosys=false -Dlocalkms.workdir="$tmp/work" \
  -jar "$junit_jar" --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
  --config=junit.jupiter.execution.timeout.default=300s \
  --class-path "$tmp/test-classes:$jar_file:$jna_jar" --scan-class-path "$tmp/test-classes" "$@"
