# Sourced by bindings/{go,java,python}/run-tests.sh: installs a built library into
# a temporary prefix the way `make install` lays it out, and builds the C program
# the interop tests exchange blobs with (examples/interop/interop.c) against it.
#
#   source bindings/test-prefix.sh LIBDIR
#
# LIBDIR holds liblocalkms.so, liblocalkms.a and the localkms tool (what `cargo
# build` or `cargo build --release` made: target/debug or target/release).
# Copying them (`make install-files`) means a concurrent cargo build cannot change
# the library under the tests. Sets and exports:
#   repo               the repository root
#   tmp                a scratch folder, removed on exit (KEEP_TMP=1 keeps it)
#   LOCALKMS_PREFIX    the prefix: lib/liblocalkms.so.0, include/localkms.h,
#                      lib/pkgconfig/localkms.pc, bin/localkms
#   PKG_CONFIG_PATH    $LOCALKMS_PREFIX/lib/pkgconfig first
#   LD_LIBRARY_PATH    $LOCALKMS_PREFIX/lib first (the prefix is not in the
#                      loader's search path; a real /usr/local install is)
#   LOCALKMS_INTEROP   the compiled examples/interop/interop.c
# Needs make, pkg-config and a C compiler (Debian: make pkg-config build-essential).

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
libdir="${1:-$repo/target/debug}"
for artefact in liblocalkms.so liblocalkms.a localkms; do
    if [ ! -f "$libdir/$artefact" ]; then
        echo "run-tests.sh: $libdir/$artefact not found: run 'cargo build' (or 'cargo build --release')" >&2
        echo "  in $repo first, or pass the folder that holds it." >&2
        exit 2
    fi
done
for tool in make pkg-config cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run-tests.sh: '$tool' not found: apt-get install -y make pkg-config build-essential" >&2
        exit 2
    fi
done
libdir="$(cd "$libdir" && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localkms-binding.XXXXXX")"
if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "scratch folder kept: $tmp"
else
    trap '{ set +x; } 2>/dev/null; rm -rf "$tmp"' EXIT
fi

export LOCALKMS_PREFIX="$tmp/prefix"
make -s -C "$repo" --no-print-directory install-files PREFIX="$LOCALKMS_PREFIX" \
    SO="$libdir/liblocalkms.so" A="$libdir/liblocalkms.a" BIN="$libdir/localkms"
export PKG_CONFIG_PATH="$LOCALKMS_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$LOCALKMS_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

export LOCALKMS_INTEROP="$tmp/interop"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
cc -std=c11 -Wall -Wextra -Werror -o "$LOCALKMS_INTEROP" "$repo/examples/interop/interop.c" \
    $(pkg-config --cflags --libs localkms)
echo "+ liblocalkms from $libdir, installed in $LOCALKMS_PREFIX"
