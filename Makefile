# MeetOA — the two commands of the quick start, and a few more.
#   make run    build, start wxemu + meetoa on SQLite, print a walk-through
#   make test   the whole suite (unit, black-box on SQLite and MariaDB, mini program), built with
#               ASan and UBSan, plus the style check
#   make demo   the mini program's client code walking through a login against `make run`
#   make bench  the benchmark of bench/run.sh (figures into bench/RESULTS.md)
# Both install missing Debian packages first (scripts/deps.sh).

BUILD      ?= build
TEST_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps build run test test-build format-check format clean miniprogram-deps demo bench fuzz

all: build

deps:
	@./scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./scripts/run.sh $(BUILD)

test-build: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMEETOA_SANITIZE=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)

# `build` too: the optimised build of `make run` sees warnings (-Werror) the Debug one does not.
test: test-build build format-check miniprogram-deps
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(TEST_BUILD) --output-on-failure -j 2

# The mini program tests' npm packages (miniprogram-simulate, jsdom), from the lock file.
miniprogram-deps: deps
	npm ci --prefix tests/miniprogram --no-audit --no-fund --loglevel=error

# The mini program's client code as a scripted walk-through against `make run`'s servers.
demo:
	node scripts/demo.mjs

# Figures: nginx baseline, info, login (SQLite, MariaDB), memory, callgrind; appended to bench/RESULTS.md.
bench: deps
	./bench/run.sh

# Every libFuzzer target for 5 minutes (make test runs them for 5 seconds each).
fuzz: deps
	bash scripts/fuzz.sh 300

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
