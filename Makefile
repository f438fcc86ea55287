# Thin wrapper over the CMake presets. `make run` and `make test` are the README's quick start.
.PHONY: setup run test test-dev test-tsan test-fuzz format bench clean

setup:
	@scripts/setup

# Builds a release and runs the main job (today: the term microbenchmarks).
run: setup
	cmake --preset release
	cmake --build --preset release
	build/release/bench/term_bench

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
