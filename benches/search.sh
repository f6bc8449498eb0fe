#!/usr/bin/env bash
# Search benchmark: global search, a group's second level and its causes, on a store of
# ~1 M deliveries made by the generator, each against a baseline measured first in the same
# run (see examples/bench_search.rs); and what the search index adds to the import. Then the
# second level and causes again with the biggest group grown to 1 M rows (copies of its
# rows, as benches/tui.sh makes them): the worst case for a group.
#
#   benches/search.sh [MESSAGES]     (default 830000 messages ≈ 1 M deliveries)
#
# Target: every query under 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${1:-830000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --example gen_postfix --example bench_search --example bench_tui --bin sendlog
target/release/examples/gen_postfix --messages "$messages" > "$work/maillog"
echo "machine: $(nproc) cores, $(uname -srm); $(date -u +%Y-%m-%d)"
start=$(date +%s%N)
target/release/sendlog --db "$work/store.db" import "$work/maillog" >/dev/null
end=$(date +%s%N)
echo "import of $messages messages: $(( (end - start) / 1000000 )) ms (search index included)"
target/release/examples/bench_search --db "$work/store.db"
# The generator's biggest failed code.
code=4.4.7
target/release/examples/bench_tui --db "$work/store.db" --grow-group "$code" 1000000 >/dev/null
echo
echo "== the $code group grown to 1 M rows"
target/release/examples/bench_search --db "$work/store.db" --groups-only
