# Kaiwu quick start: `make demo` and `make test` install what is missing (scripts/setup.sh), build, then run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all setup build demo test test-heavy bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > $(BUILD).cmake.log 2>&1 || (cat $(BUILD).cmake.log; exit 1)
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash examples/demo.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE heavy

test-heavy: build
	@cd $(BUILD) && ctest --output-on-failure -L heavy

bench: build
	@bash bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
