# SPDX-License-Identifier: Apache-2.0
# The front door. `make demo` and `make check` work on a fresh Debian 12
# machine: they install what is missing with apt-get (and npm, for the
# test-only verifier) first.
.PHONY: all deps build demo check e2e deb clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@[ -f build/build.ninja ] || meson setup build
	@ninja -C build

demo: build
	@scripts/demo.sh

check:
	@scripts/check.sh

e2e: build
	@scripts/e2e.sh

# Debian packages into build-deb/, checked by lintian (README "Install").
deb:
	@scripts/install-deps.sh deb
	@scripts/build-deb.sh

clean:
	rm -rf build build-asan build-fuzz build-deb
