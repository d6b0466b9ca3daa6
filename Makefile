# Virtdeck — the two commands of README.md.
#   make run    install what is missing, build, and start Virtdeck on your libvirt
#   make test   install the test tools too, and run every check
# `make run ARGS="--connect test:///default"` starts the demo without a hypervisor.

ARGS ?=

.PHONY: run test deps test-deps build install screenshot bench

run: deps build
	./target/release/virtdeck $(ARGS)

build:
	cargo build --release --locked

deps:
	build-aux/install-deps.sh run

test-deps:
	build-aux/install-deps.sh test

test: test-deps
	build-aux/run-tests.sh

# System-wide installation (see README.md).
install:
	meson setup _build --prefix=/usr/local
	meson install -C _build

screenshot: build
	build-aux/screenshot.sh data/screenshots/main-window.png

# Benchmarks print tables; they pass or fail nothing.
bench: test-deps
	benches/domain_list/run.sh
	benches/hosts/run.sh
	benches/console/run.sh
	benches/performance/run.sh
	benches/clone/run.sh
	cargo bench --bench console_decode
