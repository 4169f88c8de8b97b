#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fail when an option the fragment asks for did not make it into .config:
# allnoconfig drops options with unmet dependencies without a word.
set -eu
fragment=$1 config=$2
missing=$(grep '^CONFIG_' "$fragment" | while read -r want; do
	grep -qx "$want" "$config" || echo "$want"
done)
[ -z "$missing" ] && exit 0
echo "kconfig-check: options dropped from $config:" >&2
echo "$missing" >&2
exit 1
