#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What populating host pages costs a deflate: balloon_basic inflates and
# deflates MIB with page-order=host, alternately with QEMU populating each
# host page before the guest gets it back (the default) and without
# (x-deflate-populate=off, the behaviour before, which lets a host that
# cannot back a page kill the VM).  ROUNDS alternating runs on THP-backed
# and on shared hugetlbfs 2 MiB-backed RAM; prints each run's deflate time
# and, per backing, the median, the spread and the ratio of the medians.
#
#   bench-deflate.sh [ROUNDS [MIB]]     (release kernel, build/)
set -eu
rounds=${1:-3} mib=${2:-400}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

deflate_ms() {
	"$top/tools/hb-vm" "$@" balloon_basic "$mib" 2>&1 |
		sed -n 's/^# deflate: \([0-9.]*\) ms.*/\1/p'
}

. "$top/tools/stats.sh"

for backend in anon hugetlb-2M; do
	i=0
	while [ "$i" -lt "$rounds" ]; do
		for populate in on off; do
			ms=$(deflate_ms -b "$backend" \
				-o "page-order=host,x-deflate-populate=$populate")
			[ -n "$ms" ] || { echo "bench-deflate: $backend run failed" >&2; exit 1; }
			echo "$ms" >> "$out/$backend-$populate"
			echo "# $backend populate=$populate deflate $mib MiB: $ms ms"
		done
		i=$((i + 1))
	done
done

echo "backing      populate: median (spread)    without: median (spread)    ratio"
for backend in anon hugetlb-2M; do
	on=$(median < "$out/$backend-on") off=$(median < "$out/$backend-off")
	printf '%-12s %10s ms (%s)  %10s ms (%s)  %s\n' "$backend" \
		"$on" "$(spread < "$out/$backend-on")" \
		"$off" "$(spread < "$out/$backend-off")" \
		"$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
done
