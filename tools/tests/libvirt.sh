#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The management stack users drive the balloon with: Debian's libvirt
# starts the installed QEMU (make install, no -L) from
# tools/libvirt-domain.xml, page-order=host set through <qemu:override>,
# and "virsh setmem" moves the balloon.  libvirtd and virtlogd run in a
# private mount namespace, on empty runtime, state, log and cache
# directories and a copy of /etc/libvirt, and are stopped at the end.
#
#   libvirt.sh BUILD-DIR
set -u
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/kernel-log.sh"

for cmd in libvirtd virtlogd virsh unshare; do
	command -v $cmd > /dev/null ||
		{ echo "Bail out! $cmd missing: run 'make deps'"; exit 1; }
done
if [ -z "${HB_LIBVIRT_PRIVATE:-}" ]; then
	HB_LIBVIRT_PRIVATE=1 exec unshare -m --propagation private sh "$0" "$@"
fi

domain=hugeballoon
mem_mib=512 down_mib=256
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
balloon=/machine/peripheral/balloon0/virtio-backend
dir=$(mktemp -d /tmp/hb-libvirt.XXXXXX)
pool_old=

# Run a command once a second until it succeeds, for at most $1 s.
wait_for() {
	t=$1
	shift
	until "$@"; do
		[ "$t" -gt 0 ] || return 1
		sleep 1
		t=$((t - 1))
	done
}

gone() { ! kill -0 "$@" 2>/dev/null; }

# Stop libvirtd and virtlogd; true when both are gone within 10 s.
stop_daemons() {
	pids=$(cat "$dir/libvirtd.pid" "$dir/virtlogd.pid" 2>/dev/null)
	[ -z "$pids" ] && return 0
	rm -f "$dir/libvirtd.pid" "$dir/virtlogd.pid"
	# shellcheck disable=SC2086 # a list of pids
	kill $pids 2>/dev/null
	# shellcheck disable=SC2086
	wait_for 10 gone $pids
}

cleanup() {
	virsh -q destroy $domain > /dev/null 2>&1
	stop_daemons
	umount "$dir/hugepages" 2>/dev/null
	[ -n "$pool_old" ] && echo "$pool_old" > "$pool/nr_hugepages"
	rm -rf "$dir"
}
trap cleanup EXIT

# 2 MiB pages of the pool that no other process could have.
pool_taken() {
	echo $(($(cat "$pool/nr_hugepages") - $(cat "$pool/free_hugepages") +
		$(cat "$pool/resv_hugepages")))
}

qom_get() {
	virsh -q qemu-monitor-command $domain \
		"{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"$balloon\",\"property\":\"$1\"}}" |
		sed -n 's/.*"return":\([0-9]*\).*/\1/p'
}

# KEY's value in "virsh dommemstat", in KiB.
memstat() {
	virsh -q dommemstat $domain | sed -n "s/^$1 //p"
}

qom_is() { [ "$(qom_get "$1")" = "$2" ]; }

need=$((mem_mib / 2))
[ -d "$pool" ] || { echo "1..0 # SKIP host has no 2048 kB huge pages"; exit 0; }
pool_old=$(cat "$pool/nr_hugepages")
echo $((pool_old + need)) > "$pool/nr_hugepages" 2>/dev/null
got=$(($(cat "$pool/nr_hugepages") - pool_old))
[ "$got" -ge "$need" ] ||
	{ echo "1..0 # SKIP cannot reserve $need host huge pages of 2048 kB (got $got)"; exit 0; }

echo "1..8"
make -s --no-print-directory -C "$top" B="$build" install PREFIX="$dir/qemu" \
	> "$dir/install.log" 2>&1 ||
	{ echo "Bail out! make install failed: $(tail -n 3 "$dir/install.log")"; exit 1; }
emulator=$dir/qemu/bin/qemu-system-x86_64

# Empty libvirt directories and a configuration of this run's own: QEMU
# as root, without the security drivers, cgroups and namespaces a
# container lacks; huge pages from a hugetlbfs mount of its own; no
# default network.
for d in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
	mkdir -p $d && mount -t tmpfs tmpfs $d
done
cp -a /etc/libvirt "$dir/etc"
rm -rf "$dir/etc/qemu/networks/autostart"
mkdir -p "$dir/hugepages"
mount -t hugetlbfs -o pagesize=2M none "$dir/hugepages"
cat > "$dir/etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
hugetlbfs_mount = "$dir/hugepages"
stdio_handler = "logd"
EOF
mount --bind "$dir/etc" /etc/libvirt
export LIBVIRT_DEFAULT_URI=qemu:///system

virtlogd -d -p "$dir/virtlogd.pid"
libvirtd -d -p "$dir/libvirtd.pid"
wait_for 30 virsh -q version > /dev/null 2>&1

sed -e "s|@KERNEL@|$build/guest-debug/bzImage|" \
	-e "s|@INITRD@|$build/initramfs.cpio.gz|" \
	-e "s|@EMULATOR@|$emulator|" -e "s|@CONSOLE@|$dir/console.log|" \
	"$top/tools/libvirt-domain.xml" > "$dir/domain.xml"
qemu_log=/var/log/libvirt/qemu/$domain.log
taken_before=$(pool_taken)
if virsh -q define "$dir/domain.xml" > "$dir/virsh.log" 2>&1 &&
   virsh -q start $domain >> "$dir/virsh.log" 2>&1; then
	pid=$(cat /run/libvirt/qemu/$domain.pid)
	args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
	case " $args " in
	*" -L "*) result fail "libvirt started the installed QEMU without -L ($args)" ;;
	" $emulator "*) result ok "libvirt started the installed QEMU without -L" ;;
	*) result fail "libvirt started the installed QEMU without -L (started $args)" ;;
	esac
else
	result fail "libvirt started the installed QEMU without -L: $(cat "$dir/virsh.log")"
	cat "$qemu_log" 2>/dev/null | sed 's/^/# /'
	exit 1
fi
taints=$(grep -o 'tainted: [a-z-]*' "$qemu_log" | sort -u | tr '\n' ' ')
case $taints in
*custom-argv*) result fail "no custom-argv taint ($taints)" ;;
*) result ok "no custom-argv taint (${taints:-none})" ;;
esac

order=$(qom_get host-page-order)
if [ "$order" = 9 ]; then
	result ok "host-page-order is 9 through <qemu:override>"
else
	result fail "host-page-order is 9 through <qemu:override> (read '$order')"
fi

wait_for 300 grep -qs HB-MANAGED "$dir/console.log"
# The guest's stats arrive every 2 s (<stats period>).
sleep 4
available_full=$(memstat available)

virsh -q setmem $domain $(((mem_mib - down_mib) * 1024)) --live
pages=$((down_mib / 2))
wait_for 120 qom_is huge-pages-held $pages
held=$(qom_get huge-pages-held)
sleep 4
actual=$(memstat actual) available=$(memstat available)
# Free page reporting gives back free memory too: QEMU may hold less.
qemu_pages=$(($(pool_taken) - taken_before))
echo "# setmem ${down_mib} MiB down: huge-pages-held $held, actual $actual KiB," \
	"available $available_full -> $available KiB, QEMU holds $qemu_pages pool pages"
if [ "$held" = $pages ] && [ "$actual" = $(((mem_mib - down_mib) * 1024)) ] &&
   [ "$qemu_pages" -le $((mem_mib / 2 - pages)) ]; then
	result ok "setmem down: $pages host pages held and back in the host's pool"
else
	result fail "setmem down: $pages host pages held and back in the host's pool"
fi
if [ -n "$available" ] && [ -n "$available_full" ] &&
   [ $((available_full - available)) -ge $((down_mib * 1024)) ]; then
	result ok "dommemstat: the guest reports $down_mib MiB less available"
else
	result fail "dommemstat: the guest reports $down_mib MiB less available"
fi

virsh -q setmem $domain $((mem_mib * 1024)) --live
wait_for 120 qom_is huge-pages-held 0
held=$(qom_get huge-pages-held)
actual=$(memstat actual)
echo "# setmem back up: huge-pages-held $held, actual $actual KiB," \
	"QEMU holds $(($(pool_taken) - taken_before)) pool pages"
if [ "$held" = 0 ] && [ "$actual" = $((mem_mib * 1024)) ] &&
   [ "$(qom_get huge-pages-deflated)" = $pages ]; then
	result ok "setmem up: every host page deflated, none held"
else
	result fail "setmem up: every host page deflated, none held"
fi

virsh -q destroy $domain > /dev/null
tr -d '\r' < "$dir/console.log" > "$dir/console.txt"
problems=$(kernel_log_problems "$dir/console.txt")
qemu_errors=$(grep -v '^[0-9-]* [0-9:.+]*: \(starting up\|shutting down\|Domain id\)\|^LC_ALL\|^[A-Z_]*=\|^qemu-system-x86_64: terminating on signal' "$qemu_log" |
	grep -i 'error\|warn' | head -n 5)
if [ -z "$problems$qemu_errors" ]; then
	result ok "guest kernel log and QEMU's log are clean"
else
	result fail "guest kernel log and QEMU's log are clean"
	printf '%s\n%s\n' "$problems" "$qemu_errors" | sed 's/^/# /'
fi
if stop_daemons; then
	result ok "libvirtd and virtlogd stopped"
else
	result fail "libvirtd and virtlogd stopped"
fi
exit $failed
