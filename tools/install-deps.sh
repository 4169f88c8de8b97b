#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install everything hugeballoon builds and tests with, from Debian's
# packages only, and fetch the QEMU source package into $1.  Idempotent:
# a second run installs nothing and prints nothing but its summary.
set -eu

srcdir=${1:?usage: install-deps.sh SOURCE-DIR}

packages="build-essential bc bison flex libelf-dev libssl-dev cpio kmod
	rsync ccache git python3 python3-venv ninja-build meson pkg-config
	libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev
	linux-source-6.1 seabios qemu-system-data busybox-static numactl
	libhugetlbfs-bin socat jq gnuplot-nox dpkg-dev xz-utils bzip2
	texlive-xetex texlive-latex-extra texlive-fonts-recommended lmodern
	fonts-liberation libvirt-daemon-system libvirt-clients"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed' || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	# Start no service while installing (libvirtd, virtlogd): the
	# libvirt case starts its own, privately.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		trap 'rm -f "$policy"' EXIT
		printf '#!/bin/sh\nexit 101\n' > "$policy"
		chmod +x "$policy"
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# apt-get source needs deb-src entries; add them for the configured
# suites (deb822 or one-line format) when the system has none.
if ! grep -rqs '^deb-src\|^Types:.*deb-src' /etc/apt/sources.list \
		/etc/apt/sources.list.d/; then
	echo "deps: adding deb-src entries"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed -i 's/^Types: deb$/Types: deb deb-src/' \
			/etc/apt/sources.list.d/debian.sources
	else
		sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list \
			> /etc/apt/sources.list.d/hugeballoon-src.list
	fi
	apt-get update -qq
fi

mkdir -p "$srcdir"
if ! ls "$srcdir"/qemu_7.2*.dsc >/dev/null 2>&1; then
	echo "deps: fetching the qemu source package"
	(cd "$srcdir" && apt-get source -qq -o APT::Sandbox::User=root --download-only qemu >/dev/null)
fi
ls "$srcdir"/qemu_7.2*.dsc >/dev/null 2>&1 || {
	echo "deps: the qemu source package is not 7.2" >&2
	exit 1
}
echo "deps: ok (linux-source $(dpkg-query -W -f='${Version}' linux-source-6.1)," \
	"qemu $(basename "$srcdir"/qemu_7.2*.dsc .dsc | sed 's/^qemu_//'))"
