#!/usr/bin/env bash
# Runs postbud's fuzz targets one after the other (one core, niced) and
# prints, per target, the inputs executed, the time taken and what was found.
#
#   fuzz/run.sh                      every target for 60 seconds
#   fuzz/run.sh -t 600 message       one target for ten minutes
#   fuzz/run.sh -n 10000000 -l 1000000
#                                    10 million inputs per text target,
#                                    1 million per spreadsheet target
#
# Options:
#   -t SECONDS   time per target (libFuzzer -max_total_time)
#   -n RUNS      inputs per target (libFuzzer -runs); overrides -t
#   -l RUNS      inputs per spreadsheet target (list_xlsx, list_xls,
#                list_ods); default: as -n
#   -k           keep going after a target finds something (the default
#                stops that target and goes on with the next; -k restarts
#                it until its runs or time are used up)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# The checked-in corpus (fuzz/corpus/<target>) and the regression inputs
# (fuzz/regressions/<target>) are read; what the fuzzer adds goes to
# fuzz/work/<target> (not checked in; shrink it into the corpus with
# `cargo +nightly fuzz cmin`). Findings go to fuzz/artifacts/<target>/,
# logs to fuzz/work/logs/. Environment: SANITIZER (default none: the code
# is safe Rust and a sanitizer makes the runs five to eight times slower;
# `address` to use one), NICE (default 10).
set -euo pipefail
cd "$(dirname "$0")"

TEXT_TARGETS=(message html quote registration period ids amount date auth dsn list_csv list_txt)
SHEET_TARGETS=(list_xlsx list_xls list_ods)

seconds=60
runs=""
sheet_runs=""
keep_going=0
while getopts "t:n:l:kh" opt; do
  case "$opt" in
    t) seconds="$OPTARG" ;;
    n) runs="$OPTARG" ;;
    l) sheet_runs="$OPTARG" ;;
    k) keep_going=1 ;;
    *) sed -n '2,29p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${TEXT_TARGETS[@]}" "${SHEET_TARGETS[@]}")
fi

sanitizer="${SANITIZER:-none}"
nice_level="${NICE:-10}"
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="target/$triple/release"
mkdir -p work/logs

echo "building (sanitizer: $sanitizer)" >&2
if [ $# -eq 0 ]; then
  nice -n "$nice_level" cargo +nightly fuzz build --sanitizer "$sanitizer" >&2
else
  for t in "${targets[@]}"; do
    nice -n "$nice_level" cargo +nightly fuzz build --sanitizer "$sanitizer" "$t" >&2
  done
fi

is_sheet() {
  local t
  for t in "${SHEET_TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}

summary="work/summary.txt"
printf '%-14s %14s %9s %10s %8s  %s\n' target executions seconds slowest_s rss_mb result | tee "$summary"
failed=0
for t in "${targets[@]}"; do
  if [ ! -x "$bin_dir/$t" ]; then
    echo "no fuzz target $t" >&2
    failed=1
    continue
  fi
  if is_sheet "$t" || [ "$t" = list_csv ] || [ "$t" = list_txt ]; then
    max_len=1048576
  else
    max_len=65536
  fi
  want="$runs"
  if is_sheet "$t" && [ -n "$sheet_runs" ]; then
    want="$sheet_runs"
  fi
  mkdir -p "work/$t" "artifacts/$t"
  corpora=("work/$t" "corpus/$t")
  [ -d "regressions/$t" ] && corpora+=("regressions/$t")
  opts=(-timeout=10 -rss_limit_mb=2048 -max_len="$max_len" -report_slow_units=1
    -print_final_stats=1 -artifact_prefix="artifacts/$t/")
  [ -f "dict/$t.dict" ] && opts+=(-dict="dict/$t.dict")

  total=0
  slowest=0
  rss=0
  result=ok
  start=$(date +%s)
  log="work/logs/$t.log"
  : >"$log"
  while :; do
    if [ -n "$want" ]; then
      budget=(-runs=$((want - total)))
    else
      budget=(-max_total_time=$((seconds - ($(date +%s) - start))))
    fi
    status=0
    nice -n "$nice_level" "$bin_dir/$t" "${opts[@]}" "${budget[@]}" "${corpora[@]}" >"$log.part" 2>&1 || status=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.part" | tail -1)
    # Without final stats (killed): the last status line, "#1234 ...".
    [ -n "$n" ] || n=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log.part" | tail -1)
    s=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log.part" | tail -1)
    r=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log.part" | tail -1)
    cat "$log.part" >>"$log"
    rm -f "$log.part"
    total=$((total + ${n:-0}))
    [ "${s:-0}" -gt "$slowest" ] && slowest=${s:-0}
    [ "${r:-0}" -gt "$rss" ] && rss=${r:-0}
    if [ "$status" -ne 0 ]; then
      found=$(grep -o "artifacts/$t/[a-z-]*-[0-9a-f]*" "$log" | tail -1 || true)
      result="FOUND ${found:-(see $log)}"
      failed=1
      [ "$keep_going" -eq 1 ] || break
    else
      break
    fi
    # Restarted with -k: stop when the runs or the time are used up.
    if [ -n "$want" ]; then
      [ "$total" -lt "$want" ] || break
    else
      [ $(($(date +%s) - start)) -lt "$seconds" ] || break
    fi
    echo "--- restarted after a finding ---" >>"$log"
  done
  took=$(($(date +%s) - start))
  printf '%-14s %14s %9s %10s %8s  %s\n' "$t" "$total" "$took" "$slowest" "$rss" "$result" | tee -a "$summary"
done
exit "$failed"
