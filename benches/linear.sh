#!/usr/bin/env bash
# Linear growth, measured in one run (DESIGN "Targets": 16x the input may cost at most
# 20x the time; 20x at most 25x):
#   1. one Postfix message with 10 k vs 160 k recipients (a list expansion);
#   2. an mbox of S vs L bounces imported into a store already holding D deliveries.
# Each import runs on a fresh copy of the same starting store; the script prints wall
# seconds and the ratio. With BASELINE=/path/to/other/sendlog it runs that binary on the
# same inputs too, for a before/after comparison.
#
#   benches/linear.sh [SMALL_BOUNCES LARGE_BOUNCES STORE_MESSAGES]
#       defaults 5000 100000 850000 (850 k generated messages ≈ 1 M deliveries, ≈ 10 M lines)
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-5000}
large=${2:-100000}
store_messages=${3:-850000}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null

cargo build --release --quiet --example gen_postfix
cargo build --release --quiet
bins=("target/release/sendlog")
[ -n "${BASELINE:-}" ] && bins+=("$BASELINE")

# 1. One message, N recipients: real Postfix line shapes (tests/fixtures/requeue/mail.log),
#    a third of them deferred by Gmail's rate limit, the rest delivered.
one_message() { # N
  awk -v n="$1" 'BEGIN {
    q = "4D2A11C0F3"
    print "Nov 20 09:00:00 mta1 postfix/pickup[4101]: " q ": uid=1001 from=<outreach@northwind-sales.example>"
    print "Nov 20 09:00:00 mta1 postfix/cleanup[4102]: " q ": message-id=<20261120090000." q "@northwind-sales.example>"
    print "Nov 20 09:00:01 mta1 postfix/qmgr[990]: " q ": from=<outreach@northwind-sales.example>, size=18342, nrcpt=" n " (queue active)"
    for (i = 0; i < n; i++) {
      if (i % 3)
        print "Nov 20 09:00:03 mta1 postfix/smtp[4120]: " q ": to=<user" i "@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.153.26]:25, delay=1.4, delays=0.02/0.01/0.4/1, dsn=2.0.0, status=sent (250 2.0.0 OK  1763629201 a640c23a62f3a-b7f4c1d2e3si12345566b.201 - gsmtp)"
      else
        print "Nov 20 09:00:03 mta1 postfix/smtp[4120]: " q ": to=<user" i "@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.153.26]:25, delay=2.1, delays=0.02/0/0.4/1.7, dsn=4.7.28, status=deferred (host gmail-smtp-in.l.google.com[142.250.153.26] said: 421-4.7.28 Gmail has detected an unusual rate of mail originating from your IP address. (in reply to end of DATA command))"
    }
    print "Nov 20 09:30:00 mta1 postfix/qmgr[990]: " q ": removed"
  }'
}

secs() { # command… → wall seconds of it
  /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  cat "$work/t"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b / (a > 0.005 ? a : 0.005) }'; }

one_message 10000 > "$work/r10k.log"
one_message 160000 > "$work/r160k.log"
echo "1. one message: 10 k vs 160 k recipients (16x the input; target <= 20x the time)"
for bin in "${bins[@]}"; do
  a=$(secs "$bin" --db "$work/r1.db" import --year 2026 "$work/r10k.log")
  b=$(secs "$bin" --db "$work/r2.db" import --year 2026 "$work/r160k.log")
  echo "   $bin: ${a}s vs ${b}s = $(ratio "$a" "$b")x"
  rm -f "$work"/r1.db* "$work"/r2.db*
done

# 2. Bounces into a big store. Each bounce is the corpus' Postfix DSN
#    (tests/fixtures/bounces/lhost-postfix/lhost-postfix-01.eml) addressed to one failed
#    recipient of the generated log, so every one is looked up and joined.
target/release/examples/gen_postfix --messages "$store_messages" > "$work/mail.log"
template=tests/fixtures/bounces/lhost-postfix/lhost-postfix-01.eml
grep -o 'to=<[^>]*>.*status=\(deferred\|bounced\)' "$work/mail.log" | sed 's/^to=<\([^>]*\)>.*/\1/' \
  | sort -u > "$work/failed.txt"
mbox() { # N → an mbox of N bounces, cycling through the failed recipients
  # The template's lines are read once; per bounce, only the lines naming the recipient
  # or the Message-ID are rewritten.
  awk -v n="$1" -v tpl="$template" '
    BEGIN { while ((getline l < tpl) > 0) t[k++] = l }
    { r[c++] = $0 }
    END {
      for (i = 0; i < n; i++) {
        print "From MAILER-DAEMON Thu Apr 29 23:45:41 2013"
        for (j = 0; j < k; j++) {
          l = t[j]
          if (index(l, "r@p351355.pool.example.ne.jp")) sub(/r@p351355\.pool\.example\.ne\.jp/, r[i % c], l)
          if (index(l, "kijitora@example.org")) sub(/kijitora@example\.org/, r[i % c], l)
          if (index(l, "20130429234532.00000000000")) sub(/20130429234532\.00000000000/, "bench" i, l)
          print l
        }
        print ""
      }
    }' "$work/failed.txt"
}
mbox "$small" > "$work/small.mbox"
mbox "$large" > "$work/large.mbox"
for bin in "${bins[@]}"; do
  rm -f "$work"/base.db*
  "$bin" --db "$work/base.db" import --year 2026 "$work/mail.log" >/dev/null
  deliveries=$("$bin" --db "$work/base.db" export deliveries | wc -l)
  echo "2. bounces into a store of ${deliveries:-?} deliveries: $small vs $large ($(( large / small ))x the input; target <= 25x the time at 20x)"
  cp "$work/base.db" "$work/a.db"; cp "$work/base.db" "$work/b.db"
  a=$(secs "$bin" --db "$work/a.db" import "$work/small.mbox")
  b=$(secs "$bin" --db "$work/b.db" import "$work/large.mbox")
  echo "   $bin: ${a}s vs ${b}s = $(ratio "$a" "$b")x"
  rm -f "$work"/a.db* "$work"/b.db*
done
