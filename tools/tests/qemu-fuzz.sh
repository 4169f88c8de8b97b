#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make check's slice of the virtqueue fuzzer: 50,000 descriptors with a
# fixed seed on the sanitizer build (make fuzz runs it long).
#
#   qemu-fuzz.sh BUILD-DIR
exec sh "$(dirname "$0")/../fuzz.sh" "$1" descriptors 50000 1
