# The two commands a new user needs: `make run` (demo) and `make test`.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=
KVBENCH = $(BUILD)/kvbench
SETUP_STAMP = $(BUILD)/.setup-done

.PHONY: all setup build run test bench clean

all: build

$(SETUP_STAMP): scripts/setup.sh
	bash scripts/setup.sh
	mkdir -p $(BUILD) && touch $@

setup: $(SETUP_STAMP)

build: $(SETUP_STAMP)
	@if [ ! -f $(BUILD)/build.ninja ] && [ ! -f $(BUILD)/Makefile ]; then \
	  G=$$(command -v ninja >/dev/null && echo "-G Ninja"); \
	  cmake -S . -B $(BUILD) $$G -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS); fi
	cmake --build $(BUILD) -j $(JOBS)

run: build
	bash scripts/demo.sh $(KVBENCH)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	bash scripts/bench.sh $(KVBENCH)

clean:
	rm -rf $(BUILD)
