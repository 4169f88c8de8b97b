# SPDX-License-Identifier: GPL-2.0
#
# What fails a test run in a guest's kernel log, sourced by tools/hb-vm and
# the host tests that boot a guest.  Guests boot with "loglevel=5
# printk.time=1": warnings reach the console, and the kernel's lines carry
# a timestamp that tells them from a test's output.

KERNEL_LINE='^\[ *[0-9]+\.[0-9]+\] '
KERNEL_PROBLEMS='WARNING:|BUG:|kernel BUG|corruption|Bad page|page dumped because|INFO: (possible|inconsistent|trying to register)|Oops|general protection fault|Kernel panic'

# Memory offlining dumps a page it failed to isolate or migrate this time
# round and tries again (do_migrate_range()): under a test that races
# offlining against the balloon on purpose that is an outcome, not a bug.
# Whether the offline succeeded in the end is the test's to say.
KERNEL_EXPECTED='page dumped because: (migration failure|isolation failed)$'

# Print the first kernel problems in console log $1 (CR LF already
# stripped) with the lines after the first one; nothing when it is clean.
kernel_log_problems() {
	grep -E "$KERNEL_LINE" "$1" | grep -E -v "$KERNEL_EXPECTED" |
		grep -E -m 1 -A 30 "$KERNEL_PROBLEMS" || true
}
