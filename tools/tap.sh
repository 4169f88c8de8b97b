# SPDX-License-Identifier: GPL-2.0
#
# TAP results for the host-side tests in tools/tests/, sourced by them:
# "result ok|not-ok TEXT" numbers and prints one; $failed is 1 once one
# was not ok.
n=0 failed=0

result() {
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}
