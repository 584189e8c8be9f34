# The two commands of the README's Quick start. Both install what is missing first.
BUILD_DIR ?= build
SAMPLE    ?= tests/data/sample.pcap

.PHONY: run test deps build install clean

run: build
	./$(BUILD_DIR)/stash53 -r $(SAMPLE)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure --timeout 600

install: build
	cmake --install $(BUILD_DIR)

deps:
	./deploy/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j$$(nproc)

clean:
	rm -rf $(BUILD_DIR)
