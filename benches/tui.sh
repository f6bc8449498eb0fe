#!/usr/bin/env bash
# TUI benchmark: first frame, key latency and memory while scrolling, over a store of
# ~1 M deliveries made by the generator, then over the same store with one group grown to
# 1 M rows (the worst case for the Deliveries screen).
#
#   benches/tui.sh [MESSAGES]     (default 830000 messages ≈ 1 M deliveries)
#
# Targets: first frame under 200 ms, any key under 50 ms, memory flat while
# scrolling the whole table.
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${1:-830000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --example gen_postfix --example bench_tui --bin sendlog
echo "generating and importing $messages messages…" >&2
target/release/examples/gen_postfix --messages "$messages" \
  | target/release/sendlog --db "$work/store.db" import -
echo
echo "== store as imported"
target/release/examples/bench_tui --db "$work/store.db"

# The real binary in a real terminal (tmux): from launch until the codes are on screen.
# Polling tmux adds a few milliseconds of its own.
if command -v tmux >/dev/null; then
  session="sendlog-bench-$$"
  start=$(date +%s%N)
  tmux new-session -d -x 120 -y 40 -s "$session" "target/release/sendlog --db $work/store.db"
  until tmux capture-pane -p -t "$session" 2>/dev/null | grep -q "Failed deliveries by code ("; do
    sleep 0.005
  done
  end=$(date +%s%N)
  echo "real binary in tmux 120x40: codes with counts on screen $(( (end - start) / 1000000 )) ms after launch"
  tmux send-keys -t "$session" q
  sleep 0.2
  tmux kill-session -t "$session" 2>/dev/null || true
fi

cp "$work/store.db" "$work/big-group.db"
target/release/examples/bench_tui --db "$work/big-group.db" --grow-group 4.4.7 1000000 >/dev/null
echo
echo "== the same store with the 4.4.7 group grown to 1 M rows (copies of its rows)"
target/release/examples/bench_tui --db "$work/big-group.db" --scroll-code 4.4.7
