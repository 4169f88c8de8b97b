#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The virtqueue fuzzer (QEMU patch 0011, virtio-balloon-fuzz-test) on the
# QEMU built with ASan and UBSan (make host-asan), as TAP: it ran to the
# end with the model holding (no changed byte outside a released host
# page, statuses, used lengths and counters as predicted), it ran as long
# as asked, and no sanitizer reported anything.  A failure prints the
# command that replays the failing round.
#
#   fuzz.sh BUILD-DIR descriptors|seconds N SEED
set -u
build=$(cd "$1" && pwd)
mode=$2 amount=$3 seed=$4
obj=$build/host-asan/obj
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/tap.sh"
fuzzer=$obj/tests/qtest/virtio-balloon-fuzz-test
# The copy out of the build tree: there, QEMU would look for its
# firmware in the tree's qemu-bundle instead of Debian's directories.
qemu=$build/host-asan/qemu-system-x86_64
[ -x "$fuzzer" ] && [ -x "$qemu" ] ||
	{ echo "Bail out! $fuzzer missing: run 'make host-asan'"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Leaks at exit are QEMU's own and not what this looks for.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export QTEST_QEMU_BINARY=$qemu HB_FUZZ_SEED=$seed
if [ "$mode" = seconds ]; then
	export HB_FUZZ_SECONDS=$amount
else
	export HB_FUZZ_DESCRIPTORS=$amount
fi

echo "1..3"
"$fuzzer" --tap > "$log" 2>&1
status=$?
grep -v '^# starting QEMU' "$log" | grep -v '^ok\|^1\.\.' | sed 's/^#* */# /' |
	grep -v 'warning: virtio-balloon: host page entry\|not a multiple of 1G' |
	tail -n 40
summary=$(sed -n 's/^# \([0-9]*\) descriptors in .*/\1/p' "$log")
if [ "$status" -eq 0 ] && grep -q '^ok 1 /x86_64/virtio-balloon/fuzz' "$log"; then
	result ok "fuzzer ran to the end, model held (${summary:-0} descriptors)"
else
	result not-ok "fuzzer failed (status $status)"
	sed -n 's/.*replay with HB_FUZZ_SEED=\([0-9]*\) HB_FUZZ_DESCRIPTORS=\([0-9]*\) \(HB_FUZZ_ROUND=[0-9]*\)$/# replay: \3 sh tools\/fuzz.sh build descriptors \2 \1/p' \
		"$log" | tail -n 1
fi
if [ "$mode" = seconds ]; then
	result ok "ran for $amount s"
elif [ "${summary:-0}" -ge "$amount" ]; then
	result ok "at least $amount descriptors"
else
	result not-ok "at least $amount descriptors (${summary:-0})"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error:\|SUMMARY: .*Sanitizer' "$log"; then
	result not-ok "no sanitizer report"
	grep -A20 'ERROR: AddressSanitizer\|runtime error:' "$log" | head -n 40 | sed 's/^/# /'
else
	result ok "no sanitizer report"
fi
exit "$failed"
