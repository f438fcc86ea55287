# Thin wrapper over the CMake presets. `make run` and `make test` are the README's quick start.
.PHONY: setup run test test-dev test-tsan test-fuzz format bench clean

setup:
	@scripts/setup

# Builds a release and runs vigild on configs/demo.toml in the foreground, with its control
# socket in a directory of the user's own ($XDG_RUNTIME_DIR, else the build tree: never a
# shared one such as /tmp, where another user could have made the directory first, and
# vigild would refuse it); Ctrl-C stops it (docs/vigild.md).
VIGIL_RUN_DIR ?= $(or $(XDG_RUNTIME_DIR),$(CURDIR)/build/run)/vigil-demo
run: setup
	cmake --preset release
	cmake --build --preset release
	@echo
	@echo "vigild is starting on configs/demo.toml. In another terminal, try:"
	@echo "  build/release/ctl/vigilctl --socket $(VIGIL_RUN_DIR)/control.sock shell"
	@echo "  build/release/ctl/vigilctl --socket $(VIGIL_RUN_DIR)/control.sock status"
	@echo "and in the shell: send(:echo, {self(), :ping}), flush(), :observer.start(). Ctrl-C stops vigild."
	@echo
	build/release/supervisord/vigild --foreground --config configs/demo.toml \
	  --socket $(VIGIL_RUN_DIR)/control.sock

# Every test: formatting, the dev build (ASan+UBSan, -Werror), TSan on the concurrency
# tests, and a short bounded run of each fuzzer.
test: setup
	scripts/check-format
	cmake --workflow --preset dev
	cmake --workflow --preset tsan
	cmake --workflow --preset fuzz

test-dev: setup
	cmake --workflow --preset dev

format:
	scripts/check-format --fix

bench: setup
	scripts/setup --bench
	cmake --preset release
	cmake --build --preset release
	build/release/bench/term_bench --json-lines

clean:
	rm -rf build
