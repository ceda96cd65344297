#!/usr/bin/env bash
# Fuzz every parser of outside data (src/fuzzing.rs) with cargo fuzz (nightly), each for a
# set time; not part of CI. Crashes land in fuzz/artifacts/<target>/; once fixed, copy the
# input into fuzz/regressions/<target>/, which the normal suite replays.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    (default: 300 s each, every target)
#   cargo install cargo-fuzz                 (once)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi
mkdir -p fuzz/corpus
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  # Seed with the regression inputs and, for kernel.json and notebooks, the test data.
  cp -n fuzz/regressions/"$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
  echo "== $t: ${secs}s"
  (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536) \
    2>&1 | grep -E "^(#[0-9]+.*DONE|Done|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)" || true
done
ls fuzz/artifacts/*/ 2>/dev/null && { echo "crashes above: fix them and keep each input in fuzz/regressions/<target>/"; exit 1; }
echo "no crash"
