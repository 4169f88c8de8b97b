#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A huge balloon across a save and restore (migration to a file): a
# 1 GiB TCG guest first dirties most of its RAM with non-zero data, then
# page-order=host balloons it down to 624 MiB (400 MiB of 2 MiB host
# pages); the VM is migrated to a file and restored in a fresh QEMU.  The
# restored VM must keep the balloon (query-balloon, and the counters of
# the VMState subsection "virtio-balloon-device/huge-pages") and must not
# hold the ballooned memory: its RSS must stay below both guest RAM minus
# the balloon and the filled source's RSS minus 3/4 of the balloon, which
# it could not if the released pages were sent or repopulated.  Both
# sides run the debug kernel, whose log must stay clean.
#
#   qemu-migrate.sh BUILD-DIR
set -u
build=${1:-build}
qemu=$build/host/qemu-system-x86_64
mib=1048576
ram_mib=1024 guest_mib=624 balloon_mib=400
target=$((guest_mib * mib))	# QMP "balloon" and "actual": RAM left to the guest
backend=/machine/peripheral/balloon0/virtio-backend
kernel=$build/guest-debug/bzImage
. "$(dirname "$0")/../tap.sh"
. "$(dirname "$0")/../kernel-log.sh"
plan=10
echo "1..$plan"

skip_rest() {
	while [ $n -lt $plan ]; do n=$((n + 1)); echo "ok $n # SKIP $1"; done
	exit 0
}
bail() {
	echo "# $1"
	[ -n "${run:-}" ] && tail -n 20 "$run"/*.log 2>/dev/null | sed 's/^/# /'
	while [ $n -lt $plan ]; do n=$((n + 1)); echo "not ok $n # $1"; done
	exit 1
}

for f in "$qemu" "$kernel" "$build/initramfs.cpio.gz"; do
	[ -e "$f" ] || skip_rest "$f missing: run 'make'"
done
for t in socat jq; do
	command -v $t > /dev/null || skip_rest "$t not installed"
done
thp_kb=$(($(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size 2>/dev/null || echo 0) / 1024))
[ "$thp_kb" = 2048 ] || skip_rest "host THP PMD size is ${thp_kb} kB, not 2048"

run=$(mktemp -d /tmp/hb-migrate.XXXXXX)
src_pid='' dst_pid='' con_pid=''
cleanup() {
	for p in $src_pid $dst_pid $con_pid; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One QMP command on socket $1; prints its "return" (or the error) as JSON.
qmp() {
	printf '%s\n' '{"execute":"qmp_capabilities"}' "$2" |
	socat -t 5 - UNIX-CONNECT:"$1" 2>/dev/null |
	jq -c 'select(has("return") or has("error")) | if has("error") then . else .return end' |
	sed -n 2p
}
qom() {
	qmp "$1" "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"$backend\",\"property\":\"$2\"}}"
}
actual() {
	qmp "$1" '{"execute":"query-balloon"}' | jq -r '.actual // empty'
}
rss_mib() {
	awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$1/status"
}
# Poll "$@" (a command) once a second until it succeeds or $1 seconds pass.
wait_for() {
	secs=$1; shift
	while ! "$@"; do
		secs=$((secs - 1))
		[ $secs -gt 0 ] || return 1
		sleep 1
	done
}

start_qemu() {	# $1: name, rest: extra options
	name=$1; shift
	"$qemu" -M q35 -accel tcg -m ${ram_mib}M -smp 2 -nodefaults -nographic \
		-nic none -no-reboot \
		-kernel "$kernel" -initrd "$build/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 loglevel=5 printk.time=1" \
		-device virtio-balloon-pci,id=balloon0,page-order=host \
		-qmp unix:"$run/$name.qmp",server=on,wait=off "$@" \
		> "$run/$name.log" 2>&1 &
}

# Source: boot to the init shell, whose console we drive over a socket.
start_qemu src -serial unix:"$run/con.sock",server=on,wait=off
src_pid=$!
mkfifo "$run/con.in"
wait_for 10 test -S "$run/con.sock" || bail "source QEMU did not start"
socat UNIX-CONNECT:"$run/con.sock" STDIO < "$run/con.in" > "$run/console.log" 2>&1 &
con_pid=$!
exec 3> "$run/con.in"
wait_for 120 grep -q "starting a shell" "$run/console.log" ||
	bail "guest shell did not come up"

# Dirty ~650 MiB of guest RAM with non-zero data, then free it: the
# balloon is then built from pages the host has populated.
echo 'cd /tmp && mount -o remount,size=900m /tmp && yes 0123456789abcdef | head -c 1048576 > a &&
cat a a a a a a a a > b && cat b b b b b b b b b b b b b b b b > c && cat c c c c > d &&
rm a b c d && echo FILL""-DONE' >&3
wait_for 120 grep -q "^FILL-DONE" "$run/console.log" || bail "guest could not fill its RAM"
src_full=$(rss_mib $src_pid)

qmp "$run/src.qmp" "{\"execute\":\"balloon\",\"arguments\":{\"value\":$target}}" > /dev/null
reached() { [ "$(actual "$1")" = "$target" ]; }
if wait_for 120 reached "$run/src.qmp"; then
	result ok "source: balloon inflated, guest at $guest_mib MiB"
else
	result fail "source: balloon inflated, guest at $guest_mib MiB (actual $(actual "$run/src.qmp"))"
fi
src_inflated=$(qom "$run/src.qmp" huge-pages-inflated)
src_deflated=$(qom "$run/src.qmp" huge-pages-deflated)
src_rejected=$(qom "$run/src.qmp" huge-entries-rejected)
src_rss=$(rss_mib $src_pid)
echo "# source: RSS $src_full MiB filled, $src_rss MiB inflated;" \
	"huge pages inflated $src_inflated deflated $src_deflated rejected $src_rejected"
if [ $((src_inflated - src_deflated)) -ge $((balloon_mib / 2)) ] &&
   [ $((src_full - src_rss)) -ge $((balloon_mib * 3 / 4)) ]; then
	result ok "source: balloon of 2 MiB host pages gave back its RAM"
else
	result fail "source: balloon of 2 MiB host pages gave back its RAM"
fi

# Save to a file.
qmp "$run/src.qmp" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"exec:cat > $run/state\"}}" > /dev/null
migration_status() {
	qmp "$1" '{"execute":"query-migrate"}' | jq -r '.status // empty'
}
migration_over() {
	case $(migration_status "$1") in completed|failed|cancelled) ;; *) false ;; esac
}
wait_for 120 migration_over "$run/src.qmp"
if [ "$(migration_status "$run/src.qmp")" = completed ]; then
	result ok "source: saved to a file ($(($(wc -c < "$run/state") / mib)) MiB)"
else
	bail "saving failed: $(qmp "$run/src.qmp" '{"execute":"query-migrate"}')"
fi
qmp "$run/src.qmp" '{"execute":"quit"}' > /dev/null
wait $src_pid 2>/dev/null; src_pid=
kill $con_pid 2>/dev/null; wait $con_pid 2>/dev/null; con_pid=

# Restore in a fresh QEMU.
start_qemu dst -serial file:"$run/dst-console.log" -incoming "exec:cat $run/state"
dst_pid=$!
running() {
	[ "$(qmp "$1" '{"execute":"query-status"}' | jq -r '.status // empty')" = running ]
}
wait_for 120 running "$run/dst.qmp" || bail "destination did not run after the restore"
dst_actual=$(actual "$run/dst.qmp")
[ "$dst_actual" = "$target" ] &&
	result ok "destination: balloon kept, guest at $guest_mib MiB" ||
	result fail "destination: balloon kept, guest at $guest_mib MiB (actual $dst_actual)"

dst_counters="$(qom "$run/dst.qmp" huge-pages-inflated) $(qom "$run/dst.qmp" huge-pages-deflated) $(qom "$run/dst.qmp" huge-entries-rejected)"
[ "$dst_counters" = "$src_inflated $src_deflated $src_rejected" ] &&
	result ok "destination: huge-pages counters carried over" ||
	result fail "destination: huge-pages counters carried over (got $dst_counters, want $src_inflated $src_deflated $src_rejected)"

order=$(qom "$run/dst.qmp" host-page-order)
[ "$order" = 9 ] && result ok "destination: host page order 9" ||
	result fail "destination: host page order 9 (got $order)"

# Ballooned pages sent or repopulated would take the RSS above RAM -
# balloon, and back near what the source held before it inflated.
limit=$((ram_mib - balloon_mib))
[ $((src_full - balloon_mib * 3 / 4)) -lt $limit ] && limit=$((src_full - balloon_mib * 3 / 4))
dst_rss=$(rss_mib $dst_pid)
echo "# destination: RSS $dst_rss MiB after restore (limit $limit MiB)"
[ "$dst_rss" -lt $limit ] &&
	result ok "destination: ballooned memory not repopulated by the restore" ||
	result fail "destination: ballooned memory not repopulated by the restore"

sleep 5
dst_actual=$(actual "$run/dst.qmp")
dst_rss=$(rss_mib $dst_pid)
echo "# destination: RSS $dst_rss MiB after 5 s running"
[ "$dst_actual" = "$target" ] &&
	result ok "destination: balloon kept after 5 s running" ||
	result fail "destination: balloon kept after 5 s running (actual $dst_actual)"
[ "$dst_rss" -lt $limit ] &&
	result ok "destination: ballooned memory still not populated after 5 s" ||
	result fail "destination: ballooned memory still not populated after 5 s"
qmp "$run/dst.qmp" '{"execute":"quit"}' > /dev/null
wait $dst_pid 2>/dev/null; dst_pid=

problems=
for log in console dst-console; do
	tr -d '\r' < "$run/$log.log" > "$run/$log.txt"
	problems="$problems$(kernel_log_problems "$run/$log.txt")"
done
[ -z "$problems" ] && result ok "kernel logs of source and destination clean" || {
	result fail "kernel logs of source and destination clean"
	echo "$problems" | sed 's/^/# /'
}
exit $failed
