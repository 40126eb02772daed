#!/usr/bin/env bash
# Runs Meldeweg's fuzz targets (cargo-fuzz, libFuzzer) for a bounded time; see fuzz/README.md.
#
#     fuzz/run.sh TARGET SECONDS [ARGS]   one target, e.g. fuzz/run.sh webhook_body 600; ARGS go
#                                         to libFuzzer (e.g. -fork=2 -ignore_crashes=1)
#     fuzz/run.sh smoke                   every target for 20 s (CI)
#
# Each run starts from the seeds in fuzz/corpus/TARGET (read, never written) and from what
# earlier runs found in fuzz/target/corpus/TARGET (where new inputs go; ignored by git). A crash,
# a panic, a timeout or running out of memory leaves the input in fuzz/artifacts/TARGET/ and
# makes the script exit non-zero. Builds only the fuzz crate, into fuzz/target.
set -euo pipefail
cd "$(dirname "$0")"

SMOKE_SECONDS=20
RSS_LIMIT_MB=2048
# cargo-fuzz needs nightly features: the machine's one toolchain with RUSTC_BOOTSTRAP=1 by
# default, or a toolchain named in FUZZ_TOOLCHAIN (e.g. nightly). FUZZ_SANITIZER=none builds
# without the address sanitizer (faster; panics, hangs and memory limits are still findings).
TOOLCHAIN=${FUZZ_TOOLCHAIN:-}
SANITIZER=${FUZZ_SANITIZER:-address}

fuzz() {
    if [ -n "$TOOLCHAIN" ]; then
        cargo "+$TOOLCHAIN" fuzz "$@"
    else
        RUSTC_BOOTSTRAP=1 cargo fuzz "$@"
    fi
}

usage() {
    echo "usage: fuzz/run.sh TARGET SECONDS [LIBFUZZER ARGS...] | fuzz/run.sh smoke" >&2
    echo "targets: $(targets | tr '\n' ' ')" >&2
    exit 2
}

targets() {
    fuzz list
}

# Longest input per target: what the endpoint takes, within what a fuzzer explores usefully.
max_len() {
    case "$1" in
        webhook_body) echo 16384 ;;          # Meta's deliveries are a few KB (the endpoint takes 3 MiB)
        staff_api_json) echo 8192 ;;         # a comment is at most 2000 characters
        form_multipart) echo 65536 ;;        # over the target's 16 KiB photo cap
        open311_body) echo 65536 ;;          # form-encoded or multipart POSTs; the endpoint takes 256 KiB
        photo_bytes | clean) echo 262144 ;;  # room for a photo's metadata and a small picture
        *) echo "fuzz/run.sh: unknown target $1" >&2; usage ;;
    esac
}

# Seconds one input may take before libFuzzer calls it a hang.
timeout_of() {
    case "$1" in
        photo_bytes | clean) echo 30 ;;
        *) echo 10 ;;
    esac
}

# The seeds a target starts from: the two photo targets share theirs.
seeds_of() {
    case "$1" in
        clean) echo corpus/photo_bytes ;;
        *) echo "corpus/$1" ;;
    esac
}

run() {
    local target=$1 seconds=$2
    shift 2
    mkdir -p "target/corpus/$target"
    fuzz run --sanitizer "$SANITIZER" "$target" "target/corpus/$target" "$(seeds_of "$target")" -- \
        -max_total_time="$seconds" -rss_limit_mb="$RSS_LIMIT_MB" -max_len="$(max_len "$target")" \
        -timeout="$(timeout_of "$target")" -print_final_stats=1 "$@"
}

command -v cargo-fuzz >/dev/null || {
    echo "fuzz/run.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
}

case "${1:-}" in
    smoke)
        [ $# -eq 1 ] || usage
        fuzz build --sanitizer "$SANITIZER"
        failed=()
        for target in $(targets); do
            echo "== $target: ${SMOKE_SECONDS} s"
            run "$target" "$SMOKE_SECONDS" || failed+=("$target")
        done
        if [ ${#failed[@]} -gt 0 ]; then
            echo "fuzz/run.sh: findings in ${failed[*]} (inputs under fuzz/artifacts/)" >&2
            exit 1
        fi
        ;;
    "" | -h | --help) usage ;;
    *)
        [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || usage
        targets | grep -x "$1" >/dev/null || usage
        run "$@"
        ;;
esac
