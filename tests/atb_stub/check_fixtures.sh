#!/usr/bin/env bash
# TEST HELPER (llm-transform): syntax-check layer .cpp files against the ATB test stubs in this folder.
#
# Usage: check_fixtures.sh [DIR_OR_CPP ...]
#   no arguments: every .cpp under tests/fixtures/layers/*/
#   DIR: every .cpp in that folder; CPP: that file.
# Each file is compiled with
#   g++ -std=c++17 -fsyntax-only -Wno-unused -I <stub dir> -I <its folder> [-I <tmp tree>] <file>.cpp
# An own-header include in path form ("models/<m>/layer/x.h" where x.h sits next to the .cpp) is served
# from a temp tree that mirrors the include path. Prints one line per file; exit 1 on an unexpected failure.
set -u
STUB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIXTURES="$(cd "$STUB_DIR/../fixtures/layers" && pwd)"
CXX="${CXX:-g++}"
# Fixtures that are known not to compile (reason in README.md).
EXPECTED_FAIL="json_static_in_header/pavo_decoder_layer.cpp"

files=()
if [ $# -eq 0 ]; then set -- "$FIXTURES"/*/; fi
for arg in "$@"; do
    if [ -d "$arg" ]; then
        for f in "$arg"/*.cpp; do [ -e "$f" ] && files+=("$f"); done
    else
        files+=("$arg")
    fi
done

TMP_ROOT="$(mktemp -d /tmp/atb_stub_check.XXXXXX)"
trap 'rm -rf "$TMP_ROOT"' EXIT

unexpected=0
n=0
for f in "${files[@]}"; do
    n=$((n + 1))
    dir="$(cd "$(dirname "$f")" && pwd)"
    base="$(basename "$f")"
    f="$dir/$base"
    label="$(basename "$dir")/$base"
    extra=()
    tree="$TMP_ROOT/tree$n"
    # Path-form includes whose file name exists next to the .cpp: mirror them in a temp tree.
    while IFS= read -r inc; do
        [ -f "$dir/$(basename "$inc")" ] || continue
        mkdir -p "$tree/$(dirname "$inc")"
        cp "$dir/$(basename "$inc")" "$tree/$inc"
        extra=(-I "$tree")
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\/[^"]*\)".*/\1/p' "$f" | tr -d '\r')
    out="$("$CXX" -std=c++17 -fsyntax-only -Wno-unused -I "$STUB_DIR" -I "$dir" "${extra[@]}" "$f" 2>&1)"
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "ok    $label"
    else
        first="$(printf '%s\n' "$out" | grep -m1 'error' || printf '%s\n' "$out" | head -1)"
        first="${first#"$dir/"}"
        if [[ " $EXPECTED_FAIL " == *" $label "* ]]; then
            echo "xfail $label: $first"
        else
            echo "FAIL  $label: $first"
            unexpected=1
        fi
    fi
done
exit $unexpected
