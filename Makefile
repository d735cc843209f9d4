# Tessera build. `make test` is what CI runs; it installs what it needs.

GO          ?= go
BIN         ?= bin
FUZZTIME    ?= 30s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Debian 12 packages, in two sets. BUILD_PACKAGES build and run Tessera: a C
# toolchain for cgo and the race detector, pkg-config, the FFmpeg 5.1
# development libraries go-astiav binds, the ffmpeg and ffprobe tools (to look
# at recordings; the -dev packages already bring every library they use),
# and git and ca-certificates for the Go module proxy. TEST_PACKAGES are what
# only the full suite and the benchmarks add: libyuv (a benchmark peer, built
# with -tags libyuv), the servers and tools the tests start (nginx with the
# RTMP and stream (TLS) modules, headless Chromium, PostgreSQL 15) and the
# AWS CLI (Debian's, unless an aws command is installed already).
BUILD_PACKAGES := gcc libc6-dev make pkg-config ca-certificates git \
	libavcodec-dev libavformat-dev libavfilter-dev libavutil-dev \
	libswscale-dev libswresample-dev libavdevice-dev ffmpeg
TEST_PACKAGES = libyuv-dev nginx libnginx-mod-rtmp libnginx-mod-stream chromium postgresql-15 \
	$(if $(shell command -v aws),,awscli)

# Build tags of the full suite, the benchmarks and the static checks: libyuv
# compiles bench's libyuv peer (without it, go build ./... needs no libyuv).
TEST_TAGS := libyuv

# The binaries are built with Go's SIMD experiment: they carry the vector
# compositor kernels (AVX-512, AVX2) and pick the fastest the CPU has at run
# time, the portable ones otherwise. A plain go build gives portable kernels
# only.
SIMD := GOEXPERIMENT=simd

# Root runs apt-get directly; anybody else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-build build unit test vet fmt fmt-check lint bench fuzz run demo preview clean

all: build

# apt-install installs the Debian packages of $(1) that are missing
# (idempotent: does nothing when all are present), after apt-get update. A
# temporary policy-rc.d keeps the installs from starting services (nginx
# would otherwise listen on port 80); the tests start their own servers on
# 127.0.0.1.
define apt-install
	@missing=""; \
	for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "$@: all Debian packages present"; exit 0; fi; \
	echo "$@: installing$$missing"; \
	policy=/usr/sbin/policy-rc.d; saved=$$policy.tessera-saved; \
	trap '$(SUDO) rm -f $$policy; [ ! -e $$saved ] || $(SUDO) mv $$saved $$policy' EXIT; \
	if [ -e $$policy ]; then $(SUDO) mv $$policy $$saved || exit 1; fi; \
	printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee $$policy >/dev/null && $(SUDO) chmod 755 $$policy && \
	$(SUDO) apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing
endef

## deps-build: install the Debian packages that building and running Tessera need (no browser, no servers)
deps-build:
	$(call apt-install,$(BUILD_PACKAGES))

## deps: install every Debian package the build, the full suite and the benchmarks need
deps:
	$(call apt-install,$(BUILD_PACKAGES) $(TEST_PACKAGES))

## build: build the binaries into bin/ (with the vector kernels)
build: deps-build
	$(SIMD) $(GO) build -o $(BIN)/ ./cmd/...

## unit: the fast inner loop, with deps-build only: every package's tests but e2e's, with -short
## (internal/testsrv skips each test that would start nginx, versitygw, Chromium or the AWS CLI),
## without the race detector or libyuv; cached results are reused. Four packages at a time: the
## slowest tests stream in real time and leave the CPU mostly idle. Tests that run a binary build
## it with the vector kernels (testsrv.GoBuild), as make build does.
unit: deps-build
	$(GO) test -short -p 4 $$($(GO) list ./... | grep -v '/e2e$$')

# Packages with a GOEXPERIMENT=simd code path (files behind the goexperiment.simd
# build tag): their tests run a second time with the experiment on.
SIMD_PKGS = $(sort $(dir $(shell grep -rl --include='*.go' 'goexperiment.simd' --exclude-dir=testdata .)))

## test: install deps, lint (gofmt, go vet, staticcheck), then run every test with the race
## detector and libyuv (after building the binaries: the end-to-end tests run bin/tessera's source
## as a separate process), and the tests of the packages with SIMD paths again with GOEXPERIMENT=simd,
## where the equality tests run for every kernel set the CPU has (avx512, avx2, portable)
test: deps lint
	$(SIMD) $(GO) build -o $(BIN)/ ./cmd/...
	@# versitygw is built from the Go module proxy on first use (minutes on a fresh machine):
	@# build it here, through testsrv, so that no test's deadline pays for it.
	$(GO) test -count=1 -run '^TestVersityGW$$' ./internal/testsrv
	$(GO) test -race -count=1 -tags $(TEST_TAGS) ./...
	$(SIMD) $(GO) vet -tags $(TEST_TAGS) ./...
	$(SIMD) $(GO) test -race -count=1 -tags $(TEST_TAGS) $(SIMD_PKGS) ./bench/

## vet: go vet on what go build ./... compiles, and on bench with libyuv
vet: deps
	$(GO) vet ./...
	$(GO) vet -tags $(TEST_TAGS) ./bench

## fmt: format the code
fmt:
	gofmt -w .

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## lint: gofmt check, go vet and staticcheck
lint: fmt-check vet
	$(GO) run $(STATICCHECK) -tags $(TEST_TAGS) ./...

## bench: compare the compositor's kernel sets with FFmpeg and libyuv (CPU flags and table at the
## end), then every other benchmark; BENCHTIME sets each benchmark's duration
BENCHTIME ?= 1s
bench: deps
	$(SIMD) $(GO) test -tags $(TEST_TAGS) -run '^$$' -bench . -benchtime $(BENCHTIME) ./bench
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./layout ./compositor
	$(SIMD) $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./compositor

## fuzz: run each fuzzer for FUZZTIME (inputs are not minimized: targets that run a server see coverage vary
## with its background goroutines, and minimizing every "new" input would use up the time)
fuzz: deps-build
	@for file in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$file); \
		for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$file | cut -d' ' -f2); do \
			echo "fuzz: $$name in $$dir for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 0 $$dir || exit 1; \
		done; \
	done

## run: start tessera serve on the embedded defaults (127.0.0.1:8080, ./data, development credentials)
run: build
	@echo "Tessera on http://127.0.0.1:8080 (API, WHIP at /whip, /metrics), RTMP on 127.0.0.1:1935, RTMPS on 127.0.0.1:1936; data in ./data."
	@echo "Console: open http://127.0.0.1:8080/ and sign in with the development credentials below."
	@echo "Drive it with the AWS CLI, e.g.:"
	@echo "  export AWS_ACCESS_KEY_ID=AKIATESSERADEV000001 AWS_SECRET_ACCESS_KEY=tessera-development-secret AWS_DEFAULT_REGION=us-east-1"
	@echo "  aws ivs-realtime create-stage --name demo --endpoint-url http://127.0.0.1:8080"
	@echo "  aws ivs-realtime create-ingest-configuration --stage-arn <stage ARN> --ingest-protocol RTMPS --endpoint-url http://127.0.0.1:8080"
	@echo "  (then publish from OBS or ffmpeg to rtmps://127.0.0.1:1936/app/<streamKey>, trusting ./data/rtmps/cert.pem; README: Publishing (RTMP and RTMPS))"
	@echo "Recordings land in ./data/buckets/<bucket>/<stageId>/<compositionId>/<destinationId>/composite/. Ctrl-C stops (compositions finish cleanly)."
	$(BIN)/tessera serve

## demo: a server with four synthetic participants (carol featured) recording a grid composition
## into ./data/demo (RTMP=rtmp://host/app/key also pushes it there); Ctrl-C stops and finalizes
demo: build
	$(BIN)/tessera demo $(if $(RTMP),--rtmp $(RTMP))

## preview: render the featured example layout to out/layout.png
preview: build
	@mkdir -p out
	$(BIN)/layout-dump -participants 5 -attr 2:featured=true -source 4:720x1280 -stopped 5 -o out/layout.png examples/featured.json
	@echo "Open out/layout.png to see the layout; 'bin/layout-dump -h' lists every option."

clean:
	rm -rf $(BIN) out
