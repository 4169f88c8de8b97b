# SPDX-License-Identifier: GPL-2.0
#
# Figures of repeated runs, one number a line on standard input, for the
# benchmarks (sourced): the median, and the spread as "lowest-highest".
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "n/a" }'; }
spread() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi; else printf "n/a" }'; }

# Value of KEY on the "# DEMO" or "# BENCH" lines of the TAP $out/NAME.tap
# that contain MATCH.
fig() {
	grep "^# \(DEMO\|BENCH\) .*${3:-}" "$out/$1.tap" 2>/dev/null | tr ' ' '\n' |
		sed -n "s/^$2=//p" | head -n 1
}
