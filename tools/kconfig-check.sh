#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fail when an option the fragment asks for did not make it into .config:
# allnoconfig drops options with unmet dependencies without a word.  The
# fragment is a merge of files in order: a later "CONFIG_X=..." or
# "# CONFIG_X is not set" overrides an earlier one for the same option.
set -eu
fragment=$1 config=$2
missing=$(awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { name = $0; sub(/=.*/, "", name); want[name] = $0 }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { want[$2] = "" }
	END { for (name in want) print name "\t" want[name] }' "$fragment" |
while IFS="	" read -r name want; do
	if [ -n "$want" ]; then
		grep -qx "$want" "$config" || echo "$want"
	elif grep -q "^$name=" "$config"; then
		echo "# $name is not set"
	fi
done)
[ -z "$missing" ] && exit 0
echo "kconfig-check: options not as $fragment asks in $config:" >&2
echo "$missing" >&2
exit 1
