# SPDX-License-Identifier: GPL-2.0
#
# hugeballoon: build a patched guest kernel and a patched QEMU from the
# pinned Debian sources, pack an initramfs with the selftests, and boot
# them together.  Fixed outputs:
#   build/guest/bzImage  build/host/qemu-system-x86_64  build/initramfs.cpio.gz

B         := build
DL        := $(B)/dl
SRC       := $(B)/src
STAMP     := $(B)/stamp
LINUX     := $(SRC)/linux
QEMU      := $(SRC)/qemu
QOBJ      := $(B)/host/obj
QAOBJ     := $(B)/host-asan/obj
JOBS      ?= $(shell nproc)

export CCACHE_DIR ?= $(HOME)/.cache/hugeballoon-ccache
# Paths relative to the checkout, so that another clone hits the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
# Fixed build stamps keep ccache hits and the outputs reproducible.
export KBUILD_BUILD_TIMESTAMP := 1970-01-01
export KBUILD_BUILD_USER := hugeballoon
export KBUILD_BUILD_HOST := hugeballoon

GUEST_PATCHES := $(sort $(wildcard guest/patches/*.patch))
HOST_PATCHES  := $(sort $(wildcard host/patches/*.patch))

.PHONY: all deps guest guest-debug guest-nocompaction host host-tests host-asan install fuzz initramfs spec check check-quick demo bench clean distclean \
	guest-tree guest-patches host-tree host-patches versions FORCE

all: guest host initramfs

deps:
	@sh tools/install-deps.sh $(DL)

versions:
	@echo "linux-source-6.1 $$(dpkg-query -W -f='$${Version}' linux-source-6.1)"
	@echo "qemu $$(basename $$(ls $(DL)/qemu_7.2*.dsc | tail -n 1) .dsc | sed 's/^qemu_//')"

# --- source trees: series <-> git work trees --------------------------------
#
# A tree is made from the series when it is missing or older than the
# series; "make *-patches" writes the series back and marks the tree as its
# source, so commits made in the tree are never thrown away by a build.

$(STAMP)/linux-tree: $(GUEST_PATCHES)
	@mkdir -p $(STAMP)
	@sh tools/source-tree.sh create linux $(LINUX) guest/patches
	@touch $@

$(STAMP)/qemu-tree: $(HOST_PATCHES)
	@mkdir -p $(STAMP)
	@sh tools/source-tree.sh create qemu $(QEMU) host/patches $(DL)
	@touch $@

guest-tree:
	@rm -f $(STAMP)/linux-tree
	@$(MAKE) --no-print-directory $(STAMP)/linux-tree

host-tree:
	@rm -f $(STAMP)/qemu-tree
	@$(MAKE) --no-print-directory $(STAMP)/qemu-tree

guest-patches:
	@sh tools/source-tree.sh export $(LINUX) guest/patches
	@touch $(STAMP)/linux-tree

host-patches:
	@sh tools/source-tree.sh export $(QEMU) host/patches
	@touch $(STAMP)/qemu-tree

# --- guest kernels ----------------------------------------------------------
#
# One tree, three configurations: the release kernel (build/guest/bzImage,
# for make demo and the benchmarks), the debug kernel make check boots
# (build/guest-debug/bzImage, guest/config.debug on top), and the debug
# kernel without balloon compaction (build/guest-nocompaction/bzImage).

KMAKE = $(MAKE) -s -C $(LINUX) O=$(abspath $(B)/$(1)/obj) CC="ccache gcc"

# Copy a build result to its fixed path in one step, never half-written.
publish = cp $(1) $(2).new && mv $(2).new $(2)

# $(1): output directory under $(B); $(2): config fragments in merge order.
define guest_kernel
$(B)/$(1)/obj/.config: $(2) | $(STAMP)/linux-tree
	@mkdir -p $(B)/$(1)/obj
	@cat $(2) > $(B)/$(1)/fragment.config
	@$$(call KMAKE,$(1)) KCONFIG_ALLCONFIG=$(abspath $(B)/$(1)/fragment.config) \
		allnoconfig >/dev/null
	@sh tools/kconfig-check.sh $(B)/$(1)/fragment.config $$@

$(1): $(B)/$(1)/obj/.config
	@echo "  KERNEL  $(B)/$(1)/bzImage"
	@$$(call KMAKE,$(1)) -j$(JOBS) bzImage
	@$(call publish,$(B)/$(1)/obj/arch/x86/boot/bzImage,$(B)/$(1)/bzImage)
endef

$(eval $(call guest_kernel,guest,guest/config.base Kconfig.snippet))
$(eval $(call guest_kernel,guest-debug,guest/config.base Kconfig.snippet guest/config.debug))
$(eval $(call guest_kernel,guest-nocompaction,guest/config.base Kconfig.snippet guest/config.debug guest/config.nocompaction))

# --- host QEMU -------------------------------------------------------------

# Debian's firmware (seabios, qemu-system-data) is found without -L.
QEMU_PREFIX    := /usr/local
QEMU_CONFIGURE := --prefix=$(QEMU_PREFIX) --target-list=x86_64-softmmu --without-default-features \
	--enable-tcg --enable-kvm --disable-docs --disable-install-blobs \
	--disable-werror --firmwarepath=/usr/share/seabios:/usr/share/qemu

# A build directory is configured anew when these options change.
$(B)/%/configure.args: FORCE
	@mkdir -p $(@D)
	@echo '$(QEMU_CONFIGURE)' | cmp -s - $@ || echo '$(QEMU_CONFIGURE)' > $@

$(QOBJ)/build.ninja: $(B)/host/configure.args | $(STAMP)/qemu-tree
	@rm -rf $(QOBJ) && mkdir -p $(QOBJ)
	@echo "  CONFIG  qemu"
	@cd $(QOBJ) && $(abspath $(QEMU))/configure $(QEMU_CONFIGURE) \
		> configure.log 2>&1 || { tail -n 30 configure.log; exit 1; }

host: $(QOBJ)/build.ninja
	@echo "  QEMU    $(B)/host/qemu-system-x86_64"
	@ninja -C $(QOBJ) qemu-system-x86_64 trace/trace-events-all \
		> $(B)/host/ninja.log 2>&1 || \
		{ grep -B5 -A20 -m3 'error' $(B)/host/ninja.log; exit 1; }
	@$(call publish,$(QOBJ)/qemu-system-x86_64,$(B)/host/qemu-system-x86_64)

# make install [PREFIX=/usr/local] [DESTDIR=]: QEMU is relocatable (it
# finds its data from where its binary is), so what meson installs under
# the configured prefix is copied to any PREFIX without a rebuild.
PREFIX ?= /usr/local
install: host
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	@rm -rf $(B)/host/stage
	@meson install -C $(QOBJ) --no-rebuild --quiet \
		--destdir $(abspath $(B)/host/stage) > $(B)/host/install.log
	@mkdir -p $(DESTDIR)$(PREFIX)
	@cp -R $(B)/host/stage/$(QEMU_PREFIX)/. $(DESTDIR)$(PREFIX)/
	@rm -rf $(B)/host/stage

# The host series' qtests (libqos), run by make check.
host-tests: $(QOBJ)/build.ninja
	@echo "  QTEST   $(QOBJ)/tests/qtest/qos-test"
	@ninja -C $(QOBJ) tests/qtest/qos-test > $(B)/host/ninja-tests.log 2>&1 || \
		{ grep -B5 -A20 -m3 'error' $(B)/host/ninja-tests.log; exit 1; }

# The same QEMU with ASan and UBSan, and the virtqueue fuzzer, for
# make check (a slice) and make fuzz.
$(QAOBJ)/build.ninja: $(B)/host-asan/configure.args | $(STAMP)/qemu-tree
	@rm -rf $(QAOBJ) && mkdir -p $(QAOBJ)
	@echo "  CONFIG  qemu (sanitizers)"
	@cd $(QAOBJ) && $(abspath $(QEMU))/configure $(QEMU_CONFIGURE) \
		--enable-sanitizers > configure.log 2>&1 || \
		{ tail -n 30 configure.log; exit 1; }

host-asan: $(QAOBJ)/build.ninja
	@echo "  QEMU    $(QAOBJ)/qemu-system-x86_64 (sanitizers)"
	@ninja -C $(QAOBJ) qemu-system-x86_64 \
		tests/qtest/virtio-balloon-fuzz-test > $(B)/host-asan/ninja.log 2>&1 || \
		{ grep -B5 -A20 -m3 'error' $(B)/host-asan/ninja.log; exit 1; }
	@$(call publish,$(QAOBJ)/qemu-system-x86_64,$(B)/host-asan/qemu-system-x86_64)

# make fuzz [SECONDS=N] [SEED=S]: the fuzzer for N seconds (420).
SECONDS ?= 420
SEED    ?= 1
fuzz: host-asan
	@sh tools/fuzz.sh $(B) seconds $(SECONDS) $(SEED)

# --- selftests, tools, initramfs ---------------------------------------------

initramfs: $(STAMP)/linux-tree
	@$(MAKE) --no-print-directory -C selftests O=$(abspath $(B)/selftests) \
		KSRC=$(abspath $(LINUX))
	@$(MAKE) --no-print-directory -C tools O=$(abspath $(B)/tools)
	@sh tools/mkinitramfs.sh $(B)/initramfs.cpio.gz $(B)/selftests

# --- the virtio specification with the proposal ----------------------------
# make check builds it too (case host/spec-build).

spec:
	@sh tools/spec.sh spec-proposal/patches $(B)/spec

# --- tests and demo ----------------------------------------------------------
# CASES=pattern: only the test cases whose name contains it.

check: all guest-debug guest-nocompaction host-tests host-asan versions
	@sh tools/run-checks.sh $(B) $(CASES)

check-quick: all guest-debug host-tests host-asan versions
	@sh tools/run-checks.sh --quick $(B) $(CASES)

demo: all
	@sh tools/demo.sh $(B)

# make bench [ROUNDS=5]: the performance tables, alternating runs.
ROUNDS ?= 5
bench: all
	@sh tools/bench.sh $(B) $(ROUNDS)

clean:
	rm -rf $(B)/guest $(B)/host $(B)/selftests $(B)/tools \
		$(B)/initramfs.cpio.gz $(B)/run

distclean:
	rm -rf $(B)
