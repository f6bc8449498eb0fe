#!/usr/bin/env bash
# Import benchmark: sendlog vs pflogsumm on the same generated ~1 M-line Postfix log, in one
# run, on this machine. Prints wall time, CPU time and peak RSS of each, and the ratios.
#
#   benches/import.sh [MESSAGES]     (default 85000 messages ≈ 1 M lines, ≈ 240 MB)
#
# pflogsumm runs with --syslog-name=postfix-out2 so that it reads the second Postfix
# instance's lines too (it always reads "postfix"); without it, it skips half the mail.
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${1:-85000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v pflogsumm >/dev/null; then
  echo "installing pflogsumm (Debian package)…" >&2
  (apt-get update -qq && apt-get install -y -qq pflogsumm) >/dev/null
fi
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null

cargo build --release --quiet --example gen_postfix
cargo build --release --quiet
target/release/examples/gen_postfix --messages "$messages" > "$work/mail.log"
lines=$(wc -l < "$work/mail.log")
mb=$(( $(stat -c %s "$work/mail.log") / 1000000 ))
echo "input: $lines lines, $mb MB (gen_postfix --messages $messages)"

measure() { # name, command…  → "wall cpu rss_kb"
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
}

measure pflogsumm pflogsumm --syslog-name=postfix-out2 "$work/mail.log"
measure sendlog target/release/sendlog --db "$work/store.db" import "$work/mail.log"
cat "$work/sendlog.out"
read -r pw pc _ < "$work/pflogsumm.result"
read -r sw sc srss < "$work/sendlog.result"
printf 'ratio sendlog/pflogsumm: wall %.2f, cpu %.2f (target: wall <= 0.20); sendlog peak RSS %d MB (target <= 150)\n' \
  "$(echo "$sw / $pw" | bc -l)" "$(echo "$sc / $pc" | bc -l)" $((srss / 1024))
