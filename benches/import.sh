#!/usr/bin/env bash
# Import benchmark: sendlog vs pflogsumm and lnav on the same generated ~1 M-line Postfix
# log, in one run, on this machine. Prints wall time, CPU time and peak RSS of each, and the
# ratios. lnav runs headless with one GROUP BY over the file (deliveries counted by status).
#
#   benches/import.sh [--rounds N] [MESSAGES]
#                                    (default 85000 messages ≈ 1 M lines, ≈ 240 MB; 3 rounds)
#   benches/import.sh --memory [MESSAGES]
#                                    sendlog alone, for peak RSS on a big log (default
#                                    850000 messages ≈ 10 M lines, ≈ 2.4 GB; takes minutes)
#
# pflogsumm runs with --syslog-name=postfix-out2 so that it reads the second Postfix
# instance's lines too (it always reads "postfix"); without it, it skips half the mail.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=compare
rounds=3
if [ "${1:-}" = "--memory" ]; then
  mode=memory
  shift
fi
if [ "${1:-}" = "--rounds" ]; then
  rounds="${2:-}"
  shift 2 || true
  [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds takes a number of rounds, 1 or more" >&2; exit 2; }
fi
if [ "$mode" = memory ]; then messages="${1:-850000}"; else messages="${1:-85000}"; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

install() { # Debian package
  echo "installing $1 (Debian package)…" >&2
  (apt-get update -qq && apt-get install -y -qq "$1") >/dev/null
}
if [ "$mode" = compare ]; then
  command -v pflogsumm >/dev/null || install pflogsumm
  command -v lnav >/dev/null || install lnav
fi
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null

cargo build --release --quiet --example gen_postfix
cargo build --release --quiet
target/release/examples/gen_postfix --messages "$messages" > "$work/mail.log"
lines=$(wc -l < "$work/mail.log")
mb=$(( $(stat -c %s "$work/mail.log") / 1000000 ))
echo "input: $lines lines, $mb MB (gen_postfix --messages $messages)"

measure() { # name, command…  → "wall cpu rss_kb" in name.result, and added to name.results
  local name=$1; shift
  # Warm the page cache so both read the file from memory, and flush other programs' dirty
  # pages first, so that sendlog's commit (an fsync) does not wait behind their writeback.
  cat "$work/mail.log" > /dev/null
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err"
  read -r wall user sys rss < "$work/$name.time"
  cpu=$(echo "$user + $sys" | bc -l)
  printf '%-10s wall %6.2f s   cpu %6.2f s   peak RSS %4d MB\n' "$name" "$wall" "$cpu" $((rss / 1024))
  echo "$wall $cpu $rss" > "$work/$name.result"
  echo "$wall $cpu $rss" >> "$work/$name.results"
}

if [ "$mode" = memory ]; then
  measure sendlog target/release/sendlog --db "$work/store.db" import "$work/mail.log"
  cat "$work/sendlog.out"
  read -r _ _ srss < "$work/sendlog.result"
  printf 'sendlog peak RSS at %d lines: %d MB (target <= 150)\n' "$lines" $((srss / 1024))
  measure reopen target/release/sendlog --db "$work/store.db" report --json
  # A bulk load leaves the search index to the first search: what that search costs.
  measure search1 target/release/sendlog --db "$work/store.db" search --limit 1 id:0
  measure search2 target/release/sendlog --db "$work/store.db" search --limit 1 id:0
  exit 0
fi

# The three run in turn, round after round, each sendlog import into a new store: a busy
# moment of the machine then slows one round of each instead of one program, and the
# medians are compared. One round alone moved the ratio by a tenth either way.
lnav_query=";SELECT regexp_match('status=([a-z]+)', log_body) AS status, count(*) AS n FROM syslog_log GROUP BY status"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds"
  measure pflogsumm pflogsumm --syslog-name=postfix-out2 "$work/mail.log"
  rm -f "$work/store.db" "$work/store.db-wal" "$work/store.db-shm"
  measure sendlog target/release/sendlog --db "$work/store.db" import "$work/mail.log"
  # One GROUP BY over the whole file: what the cheapest question about it costs in lnav.
  measure lnav lnav -n -c "$lnav_query" "$work/mail.log"
done
cat "$work/sendlog.out"
cat "$work/lnav.out"
# A bulk load leaves the search index to the first search: what that search costs.
measure search1 target/release/sendlog --db "$work/store.db" search --limit 1 id:0
measure search2 target/release/sendlog --db "$work/store.db" search --limit 1 id:0

median() { # column of a results file → its median
  cut -d' ' -f"$2" "$1" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
pw=$(median "$work/pflogsumm.results" 1); pc=$(median "$work/pflogsumm.results" 2)
lw=$(median "$work/lnav.results" 1); lc=$(median "$work/lnav.results" 2)
sw=$(median "$work/sendlog.results" 1); sc=$(median "$work/sendlog.results" 2)
srss=$(cut -d' ' -f3 "$work/sendlog.results" | sort -n | tail -1)
printf 'medians of %d rounds: pflogsumm %.2f s, sendlog %.2f s, lnav %.2f s\n' "$rounds" "$pw" "$sw" "$lw"
printf 'ratio sendlog/pflogsumm: wall %.3f, cpu %.3f (target: wall <= 0.10)\n' \
  "$(echo "$sw / $pw" | bc -l)" "$(echo "$sc / $pc" | bc -l)"
# Each round's own ratio, to show the spread the medians smooth.
paste -d' ' "$work/sendlog.results" "$work/pflogsumm.results" |
  awk '{printf "%s%.3f", (NR > 1 ? ", " : "each round: "), $1 / $4} END {print ""}'
printf 'ratio sendlog/lnav:      wall %.3f, cpu %.3f (target: wall < 1)\n' \
  "$(echo "$sw / $lw" | bc -l)" "$(echo "$sc / $lc" | bc -l)"
printf 'sendlog: %.0f lines/s (wall); peak RSS %d MB (target <= 150)\n' \
  "$(echo "$lines / $sw" | bc -l)" $((srss / 1024))
