#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The host series' own qtests (tests/qtest/virtio-balloon-test.c, libqos):
# config space, huge queues with malformed and good requests, queue
# numbering, property errors.  Run against the built QEMU, which finds
# Debian's firmware itself.
#
#   qemu-qtest.sh BUILD-DIR
set -eu
build=$(cd "$1" && pwd)
obj=$build/host/obj
[ -x "$obj/tests/qtest/qos-test" ] ||
	{ echo "Bail out! $obj/tests/qtest/qos-test missing: run 'make host-tests'"; exit 1; }

# qtest starts QEMU by this name; give it no NIC (the dfsg source has no
# NIC option ROMs).
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
cat > "$wrap/qemu-system-x86_64" <<EOW
#!/bin/sh
exec "$build/host/qemu-system-x86_64" -nic none "\$@"
EOW
chmod +x "$wrap/qemu-system-x86_64"

export QTEST_QEMU_BINARY=$wrap/qemu-system-x86_64
# -p takes whole test paths, not a prefix: pick the balloon's from the list.
set --
for t in $("$obj/tests/qtest/qos-test" -l | grep '/virtio-balloon-tests/'); do
	set -- "$@" -p "$t"
done
[ $# -gt 0 ] || { echo "Bail out! no virtio-balloon-tests in qos-test"; exit 1; }
"$obj/tests/qtest/qos-test" --tap "$@"
