#!/usr/bin/env bash
# Open-message benchmark: a Postfix log of delivery lines only (a grep of the `status=`
# lines: no `removed` lines, so no message is ever closed), imported into a new store, then
# a 6-line log imported into that store. In the same run, the baseline: the same 6-line log
# imported into an empty store. Prints wall time and peak RSS of each, and the ratio.
#
#   benches/delivery_only.sh [LINES]     (default 10000000 delivery lines)
#
# Targets: peak RSS of the big import <= 150 MB; the 6-line import afterwards < 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-10000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null

cargo build --release --quiet --example gen_postfix
cargo build --release --quiet
gen=target/release/examples/gen_postfix
bin=target/release/sendlog

# gen_postfix writes about 3 delivery lines per message; ask for enough and cut at LINES.
"$gen" --messages $(( lines / 2 )) | grep -F ' status=' | head -n "$lines" > "$work/smtp.log" || true
have=$(wc -l < "$work/smtp.log")
mb=$(( $(stat -c %s "$work/smtp.log") / 1000000 ))
echo "input: $have delivery lines, $mb MB, no removed lines"
# sed reads to the end: `head` would close the pipe early and fail the run under pipefail.
"$gen" --messages 20 --seed 7 | grep -F ' status=' | sed -n '1,6p' > "$work/six.log"

measure() { # name, command…  → prints wall and peak RSS; leaves "wall rss_kb" in $work/name.result
  local name=$1; shift
  sync
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" || {
    cat "$work/$name.err" >&2; exit 1; }
  read -r wall rss < "$work/$name.time"
  printf '%-26s wall %7.2f s   peak RSS %5d MB\n' "$name" "$wall" $((rss / 1024))
  echo "$wall $rss" > "$work/$name.result"
}

measure "6 lines, empty store" "$bin" --db "$work/empty.db" import "$work/six.log"
measure "delivery-only log" "$bin" --db "$work/big.db" import "$work/smtp.log"
cat "$work/delivery-only log.out" | head -1
measure "6 lines, after it" "$bin" --db "$work/big.db" import "$work/six.log"
sqlite3_count() {
  "$bin" --db "$work/big.db" report --json | grep -m1 -A6 '"totals"' | tr -d '\n ' ; echo
}
sqlite3_count

read -r base_wall _ < "$work/6 lines, empty store.result"
read -r _ big_rss < "$work/delivery-only log.result"
read -r after_wall after_rss < "$work/6 lines, after it.result"
printf '6-line import after the big one vs into an empty store: wall %.2fx (%.2f s, target < 1 s); peak RSS of the big import %d MB (target <= 150); of the 6-line import %d MB\n' \
  "$(echo "$after_wall / $base_wall" | bc -l)" "$after_wall" $((big_rss / 1024)) $((after_rss / 1024))
