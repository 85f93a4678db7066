#!/usr/bin/env bash
# Shrinks what the fuzzer found into the checked-in corpus: for each target
# given (default: all), the files of fuzz/corpus/<target> and
# fuzz/work/<target> are merged by libFuzzer (-merge=1, which records the
# coverage features of every file), then at most MAX_FILES files of at most
# MAX_BYTES together are kept: the named seeds (fixtures and hand-written
# inputs, whose names are not hashes) first, then greedily the file adding
# the most features not yet covered. Needs python3 and built targets
# (fuzz/run.sh builds them).
#
#   fuzz/shrink.sh                 every target
#   MAX_FILES=30 fuzz/shrink.sh message
set -euo pipefail
cd "$(dirname "$0")"

max_files="${MAX_FILES:-50}"
max_bytes="${MAX_BYTES:-2097152}"
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="target/$triple/release"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=()
  for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

for t in "${targets[@]}"; do
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/merged" "work/$t"
  case "$t" in list_*) max_len=1048576 ;; *) max_len=65536 ;; esac
  nice -n "${NICE:-10}" "$bin_dir/$t" -merge=1 -merge_control_file="$tmp/mcf" \
    -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    "$tmp/merged" "corpus/$t" "work/$t" >"$tmp/log" 2>&1 || {
    echo "$t: merge failed, see $tmp/log" >&2
    continue
  }
  mkdir -p "$tmp/keep"
  python3 - "$tmp/mcf" "$tmp/keep" "$max_files" "$max_bytes" <<'EOF'
import os, re, shutil, sys

mcf, keep, max_files, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = open(mcf, encoding="utf-8", errors="replace").read().split("\n")
n = int(lines[0])
files = lines[2 : 2 + n]
features, sizes = {}, {}
for line in lines[2 + n :]:
    parts = line.split()
    if len(parts) >= 3 and parts[0] == "STARTED":
        sizes[int(parts[1])] = int(parts[2])
    elif parts and parts[0] == "FT":
        features[int(parts[1])] = set(map(int, parts[2:]))
# Only files that ran to the end (a crash or timeout has no FT line).
done = [i for i in features if files[i] and os.path.isfile(files[i])]
hashed = re.compile(r"^[0-9a-f]{40}$")
named = sorted(
    (i for i in done if not hashed.match(os.path.basename(files[i]))),
    key=lambda i: os.path.basename(files[i]),
)
chosen, covered, total, names = [], set(), 0, set()
def take(i):
    global total
    name = os.path.basename(files[i])
    if name in names:
        return
    chosen.append(i)
    names.add(name)
    covered.update(features[i])
    total += sizes.get(i, 0)
for i in named:
    if len(chosen) < max_files and total + sizes.get(i, 0) <= max_bytes:
        take(i)
rest = [i for i in done if i not in chosen]
while len(chosen) < max_files and rest:
    best = max(rest, key=lambda i: (len(features[i] - covered), -sizes.get(i, 0)))
    if not features[best] - covered:
        break
    rest.remove(best)
    if total + sizes.get(best, 0) <= max_bytes:
        take(best)
for i in chosen:
    shutil.copy(files[i], os.path.join(keep, os.path.basename(files[i])))
all_features = set().union(*(features[i] for i in done)) if done else set()
print(f"{len(chosen)} files, {total} bytes, {len(covered)} of {len(all_features)} features")
EOF
  rm -rf "corpus/$t"
  mv "$tmp/keep" "corpus/$t"
  echo "$t: $(ls "corpus/$t" | wc -l) files, $(du -sb "corpus/$t" | cut -f1) bytes"
  rm -rf "$tmp"
done
