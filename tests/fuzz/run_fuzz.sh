#!/bin/sh
# Runs one libFuzzer target for $FUZZ_SECONDS seconds (default 20) on a
# fresh copy of its seed corpus, for ctest (tests/fuzz/CMakeLists.txt).
#
#   run_fuzz.sh FUZZER SEED_DIR WORK_DIR MAX_LEN
#
# The corpus grows in WORK_DIR/corpus, never in the source tree; a crashing
# input is saved in WORK_DIR as crash-*, leak-*, timeout-* or oom-*.
# Exits non-zero when the fuzzer found anything.
set -eu
fuzzer=$1 seeds=$2 work=$3 max_len=$4
seconds=${FUZZ_SECONDS:-20}

rm -rf "$work"
mkdir -p "$work/corpus"
cp "$seeds"/* "$work/corpus/"
dict=""
[ -f "$seeds.dict" ] && dict="-dict=$seeds.dict"

exec "$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" $dict "$work/corpus"
