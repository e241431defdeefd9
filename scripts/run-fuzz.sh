#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in a -Dfuzz=true build for a bounded time.
# Each target fuzz/<dir>/fuzz_<name> may have, next to its source:
#   fuzz_<name>.seeds  one file or directory per line (relative to the source
#                      root; $VECTORS is the shared vectors directory), copied
#                      into a fresh corpus first;
#   fuzz_<name>.dict   a libFuzzer dictionary (-dict=) for structured inputs;
#   fuzz_<name>.flags  extra libFuzzer flags, one per line (e.g. -max_len=).
# Lines starting with # are comments in .seeds and .flags.
# Usage: scripts/run-fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]
set -uo pipefail
build=$(cd "$1" && pwd)
secs=${2:-${FUZZ_SECONDS:-20}}
src=$(cd "$(dirname "$0")/.." && pwd)
VECTORS=${SGXQH_VECTORS:-$src/../shared/vectors}
export VECTORS
pass=0 fail=0
results=()
for exe in $(find "$build/fuzz" -type f -name 'fuzz_*' -perm -u+x | sort); do
  name=$(basename "$exe")
  rel=$(dirname "${exe#"$build"/}")
  corpus=$(mktemp -d)
  seeds="$src/$rel/$name.seeds"
  if [ -f "$seeds" ]; then
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      case $line in \#*) continue ;; esac
      p=$(eval echo "$line")
      case $p in /*) ;; *) p="$src/$p" ;; esac
      if [ -d "$p" ]; then
        find "$p" -type f -size -1024k -exec cp -t "$corpus" {} + 2>/dev/null
      elif [ -f "$p" ]; then
        cp "$p" "$corpus/$(echo "$p" | md5sum | cut -c1-12)-$(basename "$p")"
      fi
    done < "$seeds"
  fi
  extra=()
  dict="$src/$rel/$name.dict"
  [ -f "$dict" ] && extra+=("-dict=$dict")
  flags="$src/$rel/$name.flags"
  if [ -f "$flags" ]; then
    while IFS= read -r line; do
      case $line in '' | \#*) continue ;; esac
      extra+=("$line")
    done < "$flags"
  fi
  log=$(mktemp)
  echo "fuzz: $name for ${secs}s (seeds: $(ls "$corpus" | wc -l)${extra[*]:+; ${extra[*]}})"
  if (cd "$(mktemp -d)" && "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${extra[@]}" "$corpus" >"$log" 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $name OK ($runs runs)"
    pass=$((pass + 1))
  else
    echo "fuzz: $name FAILED; log follows"
    tail -60 "$log"
    fail=$((fail + 1))
  fi
  rm -rf "$corpus" "$log"
done
echo "fuzz: $pass passed, $fail failed"
[ "$pass" -gt 0 ] || { echo "fuzz: no fuzz targets were built"; exit 1; }
[ "$fail" -eq 0 ]
