#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# QEMU's page-order property from the command line, as a user meets it:
# a wrong value is refused at start-up with a message naming the valid
# ones; "host" finds the order of anonymous (THP) and hugetlbfs RAM; no
# property, no order; a private hugetlbfs backend draws a warning that
# names share=on.
#
#   qemu-page-order.sh BUILD-DIR
set -u
qemu=$1/host/qemu-system-x86_64
. "$(dirname "$0")/../tap.sh"
echo "1..8"


# Start QEMU stopped, read the device's host-page-order, quit.
# $1: -m and backend options, $2: balloon options.  Prints the order or
# QEMU's error.
host_page_order() {
	printf '%s\n' '{"execute":"qmp_capabilities"}' \
		'{"execute":"qom-get","arguments":{"path":"/machine/peripheral/balloon0/virtio-backend","property":"host-page-order"}}' \
		'{"execute":"quit"}' |
	# shellcheck disable=SC2086 # $1 is an option list
	"$qemu" -M q35 -S -nodefaults -nographic -nic none $1 -device "virtio-balloon-pci,id=balloon0$2" \
		-qmp stdio 2>&1 | sed -n 's/.*"return": \([0-9]*\)}.*/\1/p; /qemu-system/p'
}

for bad in bogus 0 31; do
	msg=$("$qemu" -M q35 -nodefaults -nographic -nic none -S \
		-device virtio-balloon-pci,page-order=$bad 2>&1 </dev/null)
	status=$?
	if [ $status -ne 0 ] && echo "$msg" | grep -q "'host'"; then
		result ok "page-order=$bad refused, naming the valid values"
	else
		result fail "page-order=$bad refused, naming the valid values (exit $status: $msg)"
	fi
done

order=$(host_page_order "-m 128M" "")
[ "$order" = 0 ] && result ok "no page-order: no host page order" ||
	result fail "no page-order: no host page order (got '$order')"

thp_kb=$(($(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size 2>/dev/null || echo 0) / 1024))
order=$(host_page_order "-m 128M" ",page-order=host")
if [ "$thp_kb" = 2048 ]; then
	[ "$order" = 9 ] && result ok "page-order=host on anonymous RAM: THP order 9" ||
		result fail "page-order=host on anonymous RAM: THP order 9 (got '$order')"
else
	n=$((n + 1)); echo "ok $n # SKIP host THP PMD size is ${thp_kb} kB, not 2048"
fi

order=$(host_page_order "-m 128M" ",page-order=9,x-host-page-order-raw=0")
[ "$order" = 0 ] && result ok "x-host-page-order-raw advertises a bogus order as is" ||
	result fail "x-host-page-order-raw advertises a bogus order as is (got '$order')"

# hugetlbfs-backed RAM: 64 host pages of 2 MiB.
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
old=$(cat $pool/nr_hugepages)
echo $((old + 64)) > $pool/nr_hugepages
mnt=$(mktemp -d)
if [ $(($(cat $pool/nr_hugepages) - old)) -ge 64 ] &&
   mount -t hugetlbfs -o pagesize=2M none "$mnt"; then
	ram="-m 128M -machine memory-backend=ram0 -object memory-backend-file,id=ram0,size=128M,mem-path=$mnt"
	order=$(host_page_order "$ram,share=on" ",page-order=host")
	[ "$order" = 9 ] && result ok "page-order=host on hugetlbfs 2 MiB RAM: order 9" ||
		result fail "page-order=host on hugetlbfs 2 MiB RAM: order 9 (got '$order')"
	said=$(host_page_order "$ram,share=off" ",page-order=host")
	case $said in
	*"'ram0' is a private hugetlbfs mapping"*"set share=on"*)
		result ok "share=off on hugetlbfs: warning naming share=on" ;;
	*)	result fail "share=off on hugetlbfs: warning naming share=on (got '$said')" ;;
	esac
	umount "$mnt"
else
	for t in 1 2; do
		n=$((n + 1)); echo "ok $n # SKIP cannot reserve 64 host huge pages of 2 MiB"
	done
fi
echo "$old" > $pool/nr_hugepages
rmdir "$mnt"
exit $failed
