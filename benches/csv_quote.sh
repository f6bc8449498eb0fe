#!/usr/bin/env bash
# Stray-quote benchmark: a PowerMTA accounting CSV (the fixture's records repeated with other
# recipients, about 10 MB) imported intact, then with one closing quote lost near its start.
# In one run; prints the wall time of each and the ratio (a stray quote used to cost ~250×).
#
#   benches/csv_quote.sh [ROWS]     (default 40000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-40000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/sendlog
src=tests/fixtures/powermta/acct-2026-11-20-0000.csv

head -n 1 "$src" > "$work/intact.csv"
tail -n +2 "$src" | awk -v rows="$rows" '
  { rec[NR] = $0 } END {
    for (i = 0; i < rows; i++) { r = rec[i % NR + 1]; gsub(/@/, i "@", r); print r } }' \
  >> "$work/intact.csv"
# The first diagnostic loses its closing quote.
awk 'NR == 3 { sub(/\)",/, "),") } { print }' "$work/intact.csv" > "$work/stray.csv"
cmp -s "$work/intact.csv" "$work/stray.csv" && { echo "no quote removed" >&2; exit 1; }
echo "input: $(wc -l < "$work/intact.csv") lines, $(( $(stat -c %s "$work/intact.csv") / 1000000 )) MB"

run() { # name file
  /usr/bin/time -f "%e" -o "$work/$1.time" "$bin" --db "$work/$1.db" import "$2" > "$work/$1.out"
  printf '%-7s wall %6.2f s   %s\n' "$1" "$(cat "$work/$1.time")" "$(head -1 "$work/$1.out" | sed 's/^[^:]*: //')"
}
run intact "$work/intact.csv"
run stray "$work/stray.csv"
printf 'ratio stray/intact: %.2f\n' "$(echo "$(cat "$work/stray.time") / $(cat "$work/intact.time")" | bc -l)"
