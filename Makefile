# Entry points: `make demo` runs the main job on bundled data, `make test`
# builds and runs every test. Both first install the Debian 12 packages
# the build needs, and only those that are missing.

PACKAGES := build-essential cmake pkg-config python3 python3-jsonschema \
  libyaml-cpp-dev libsimdjson-dev libconcurrentqueue-dev libspdlog-dev libfmt-dev \
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev \
  libssl-dev zlib1g-dev libhowardhinnant-date-dev tzdata libre2-dev \
  libcurl4-openssl-dev libcpp-httplib-dev openssl syslog-ng-core \
  libhiredis-dev libjemalloc-dev redis-server

JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build demo test test-asan test-tsan bench install deb clean

all: build

deps:
	@missing=$$(for package in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q 'install ok installed' || echo $$package; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build/CMakeCache.txt: | deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS)

demo: build
	@bash pipelines/demo/run.sh

test: build
	cd build && ctest --output-on-failure -j $(JOBS)

build-asan/CMakeCache.txt: | deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_SANITIZE=address,undefined $(CMAKE_FLAGS)

test-asan: deps build-asan/CMakeCache.txt
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

build-tsan/CMakeCache.txt: | deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_SANITIZE=thread $(CMAKE_FLAGS)

test-tsan: deps build-tsan/CMakeCache.txt
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j $(JOBS)

bench: build
	@bash bench/run.sh

# Installs into CMAKE_INSTALL_PREFIX (/usr/local unless CMAKE_FLAGS sets it).
install: build
	$(SUDO) cmake --install build

# A Debian package in build-deb/, built with the prefix /usr that the
# systemd unit names.
build-deb/CMakeCache.txt: | deps
	cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF $(CMAKE_FLAGS)

deb: deps build-deb/CMakeCache.txt
	cmake --build build-deb -j $(JOBS) --target slipway
	cd build-deb && cpack -G DEB
	@ls build-deb/*.deb

clean:
	rm -rf build build-asan build-tsan build-deb
