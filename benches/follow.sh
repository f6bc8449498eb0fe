#!/usr/bin/env bash
# Follow benchmark: `sendlog import --follow` on a log that a loop appends to.
#  - line-to-store latency: a delivery line with a unique recipient is appended, and the
#    store is polled (every 5 ms, a second reader) until that recipient is there; N samples,
#    one every 0.4-1.0 s so the samples fall anywhere in the follower's poll period;
#  - idle CPU: the follower's user+system time (from /proc/PID/stat) over IDLE seconds
#    with nothing written.
#
#   benches/follow.sh [N] [IDLE]     (default 50 samples, 10 s idle)
#
# SENDLOG_BIN picks the binary (default: a release build). Targets: a line in the store
# within 1 s; no measurable CPU while idle.
set -euo pipefail
cd "$(dirname "$0")/.."
samples="${1:-50}"
idle="${2:-10}"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
if [ -z "${SENDLOG_BIN:-}" ]; then
  cargo build --release --quiet
  SENDLOG_BIN=target/release/sendlog
fi
head -n 3000 tests/fixtures/postfix/postfix_log_analysis__mail2.log > "$work/mail.log"
TZ=UTC "$SENDLOG_BIN" --db "$work/s.db" import --follow "$work/mail.log" \
  > "$work/out" 2> "$work/err" &
pid=$!
# The first import is done when its summary line is printed.
until grep -q "lines read" "$work/out" 2>/dev/null; do sleep 0.05; done

python3 - "$work" "$samples" "$idle" "$pid" <<'PY'
import os, random, sqlite3, sys, time
work, samples, idle, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(f"file:{work}/s.db?mode=ro", uri=True)
lat = []
for i in range(samples):
    time.sleep(random.uniform(0.4, 1.0))
    rcpt = f"bench{i}x{random.randrange(1 << 30)}@example.net"
    line = (f"Nov  2 16:15:{i % 60:02d} conch postfix/smtp[27776]: B{i:09X}: to=<{rcpt}>, "
            "relay=mx.example.net[192.0.2.1]:25, delay=1.1, delays=0.1/0/0.5/0.5, "
            "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)\n")
    with open(f"{work}/mail.log", "a") as f:
        f.write(line)
    start = time.monotonic()
    while True:
        n = db.execute("SELECT count(*) FROM deliveries WHERE recipient = ?", (rcpt,)).fetchone()[0]
        if n:
            break
        if time.monotonic() - start > 10:
            sys.exit(f"sample {i}: not in the store after 10 s")
        time.sleep(0.005)
    lat.append(time.monotonic() - start)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"line-to-store latency over {len(lat)} lines: p50 {pick(0.5)*1000:.0f} ms, "
      f"p95 {pick(0.95)*1000:.0f} ms, max {lat[-1]*1000:.0f} ms")

def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
tick = os.sysconf("SC_CLK_TCK")
time.sleep(1)
before, t0 = cpu(), time.monotonic()
time.sleep(idle)
used, wall = (cpu() - before) / tick, time.monotonic() - t0
print(f"idle CPU over {wall:.1f} s with nothing written: {used*1000:.0f} ms "
      f"({100*used/wall:.2f}% of one core)")
PY
kill -TERM "$pid"
wait "$pid" && echo "SIGTERM: exit 0"
pid=""
