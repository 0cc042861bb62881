# The two commands of a new user: `make demo` and `make test`.
# Both install what is missing (Debian) and start a throwaway redis-server unless REDIS_URL is set.

SWIFT ?= swift
SWIFT_TEST_FLAGS ?=
# The demo package builds in the library's .build (scripts/build-dependent.sh says why), so its binary is
# .build/debug/BackgroundJobsDemo.
DEMO_PACKAGE = --package-path Examples/BackgroundJobs --scratch-path .build

.PHONY: demo demo-deps test build deps test-deps bench chaos clean

# libvips-dev builds the file handlers (and so the demo); the demo's email goes to a local aiosmtpd sink and
# its PDF text extraction uses poppler-utils (ffmpeg, for video jobs, is left to those who want them).
deps:
	@scripts/install-deps.sh libvips-dev

demo-deps: deps
	@scripts/install-deps.sh python3-aiosmtpd poppler-utils

build: deps
	$(SWIFT) build

# The tests also check the metrics with promtool and a real Prometheus (Debian's prometheus), driving it with curl;
# the built-in handlers run against libvips, pdftotext (poppler-utils), ffmpeg and an SMTP server (aiosmtpd).
test-deps: deps
	@scripts/install-deps.sh prometheus curl poppler-utils ffmpeg python3-aiosmtpd

# The demo first: a clean build of it (after the library's file list changed) would remove the library's.
# Its tests run without --skip-build: that would take the plan of the last build in .build, the library's,
# and run the library's tests a second time; the build it does finds everything built.
test: test-deps
	scripts/build-dependent.sh .build debug $(SWIFT) build --build-tests $(DEMO_PACKAGE)
	$(SWIFT) build --build-tests
	scripts/with-redis.sh sh -c '$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS) && $(SWIFT) test $(DEMO_PACKAGE) $(SWIFT_TEST_FLAGS) && scripts/prometheus-check.sh'
	scripts/chaos/run.sh --short

demo: demo-deps
	scripts/build-dependent.sh .build debug $(SWIFT) build $(DEMO_PACKAGE)
	scripts/demo.sh $(SWIFT) run --skip-build $(DEMO_PACKAGE) BackgroundJobsDemo --config configs/jobs.yaml

bench: deps
	scripts/bench.sh

# The fault suite (docs/reliability.md): kill -9 chaos, Redis restarts and outages, hung and crashing
# handlers, fuzzed input and load, each against its own redis-servers and demo processes; about 10 minutes.
chaos: deps
	scripts/build-dependent.sh .build debug $(SWIFT) build $(DEMO_PACKAGE)
	scripts/chaos/run.sh --out .build/chaos-results.jsonl

clean:
	$(SWIFT) package clean
	rm -rf Examples/BackgroundJobs/.build Benchmarks/.build
