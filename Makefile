# nodeprep and crharness. `make` builds bin/; `make check` runs every test;
# `make asan` runs them under AddressSanitizer+UBSan. Dependencies come
# from pkg-config; ./mk installs missing Debian packages first.
# -Wno-format-truncation: fixed-size ids and paths are cut on purpose with
# snprintf; gcc cannot prove the bounds and would fail the build.
PKGS      = yaml-0.1 libcurl libgit2 libarchive libssh2 jansson libcrypto
CC       ?= cc
OPT      ?= -O2 -g
BUILD    ?= build
BIN      ?= bin
CFLAGS_NP = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers -Wno-format-truncation \
            -Icommon -Iprovision -Iharness $(OPT) $(EXTRA_CFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
# nodeprep itself links only these; libcurl, libgit2 and libarchive are in
# nodeprep-sources.so, loaded by the first fetch/git/extract step
# (provision/modules/sources.c), so an ordinary run stays small
NP_LIBS    = $(shell pkg-config --libs yaml-0.1 jansson libcrypto libssh2) -lpthread -lm
SOURCES_LIBS = $(shell pkg-config --libs libcurl libgit2 libarchive)
SOURCES_SRC = common/download.c common/extract.c provision/tree_push.c \
              provision/modules/fetch.c provision/modules/git.c provision/modules/extract.c \
              provision/modules/gomod.c
SOURCES_OBJ = $(SOURCES_SRC:%.c=$(BUILD)/pic/%.o)
CHECK_LIBS = $(shell pkg-config --libs check)
PREFIX   ?= /usr/local

# crharness's commands link into crharness only: their cmd_run would clash
# with nodeprep's in the one library
CRH_CMD_SRC = $(wildcard harness/cmd_*.c)
LIB_SRC  = $(wildcard common/*.c) \
           $(filter-out provision/main.c,$(wildcard provision/*.c provision/modules/*.c)) \
           $(filter-out harness/main.c $(CRH_CMD_SRC),$(wildcard harness/*.c harness/backends/*.c harness/reports/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_OBJ = $(UNIT_SRC:%.c=$(BUILD)/%.o)
HDRS     = $(wildcard common/*.h provision/*.h provision/modules/*.h harness/*.h harness/*/*.h)

all: $(BIN)/nodeprep $(BIN)/nodeprep-sources.so $(BIN)/crharness

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS_NP) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libnodeprep.a: $(LIB_OBJ)
	@rm -f $@
	@echo "AR $@"; ar rcs $@ $^

$(BUILD)/pic/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS_NP) -fPIC $(PKG_CFLAGS) -c -o $@ $<

# -rdynamic: the plugin calls back into nodeprep (buf, host, journal, ...)
$(BIN)/nodeprep: $(BUILD)/provision/main.o $(BUILD)/libnodeprep.a
	@mkdir -p $(BIN)
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -rdynamic -Wl,--as-needed -o $@ $^ $(NP_LIBS)

$(BIN)/nodeprep-sources.so: $(SOURCES_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -shared -Wl,--as-needed -o $@ $^ $(SOURCES_LIBS)

$(BIN)/crharness: $(BUILD)/harness/main.o $(CRH_CMD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libnodeprep.a
	@mkdir -p $(BIN)
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libnodeprep.a
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# Every test: unit suites (check) then integration tests with real processes.
check: all $(BUILD)/unit-tests
	BUILD=$(BUILD) NP=$(BIN)/nodeprep CRH=$(BIN)/crharness tests/run-all

# Only the fast unit suites.
unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

ASAN_MAKE = $(MAKE) BUILD=build-asan BIN=build-asan/bin \
	OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" EXTRA_LDFLAGS="-fsanitize=address,undefined"
asan:
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/data/lsan.supp $(ASAN_MAKE) check

# Only the sanitizer build (tests/integration/95-sanitizers.sh runs part of the suite with it).
asan-build:
	$(ASAN_MAKE) all build-asan/unit-tests

# libFuzzer targets (clang): the library built with fuzzer instrumentation
# and ASan+UBSan into build-fuzz/, one binary per tests/fuzz/fuzz_*.c.
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/fuzz/%)
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

build-fuzz/fuzz/%: tests/fuzz/%.c build-fuzz/libnodeprep.a
	@mkdir -p $(dir $@)
	clang $(CFLAGS_NP) -Wno-unknown-warning-option -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
		-Itests/fuzz -o $@ $< \
		build-fuzz/libnodeprep.a $(PKG_LIBS)

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang OPT="$(FUZZ_FLAGS)" EXTRA_CFLAGS=-Wno-unknown-warning-option \
		build-fuzz/libnodeprep.a
	$(MAKE) $(FUZZ_BINS)

# Every fuzz target for FUZZ_SECONDS (default 60) on its seed corpus.
fuzz-smoke: fuzz
	tests/fuzz/smoke

# The main job: build, prepare this host for C/R, run the counter scenarios.
run: all
	scripts/main-job

# Nightly end-to-end: prepare the host, run all scenarios on runc and
# containerd, JSON + JUnit + HTML (with history) under $NIGHTLY_DIR.
nightly: all
	scripts/nightly

# A one-node Kubernetes cluster on this machine (k8s/node.yaml: kubelet,
# API server, scheduler, etcd built from source, containerd 2.x with CRIU,
# daemons supervised by nodeprep without systemd). Idempotent; the last
# line printed is KUBECONFIG=PATH. cluster-down stops it and leaves no
# process, mount or container behind (k8s/down.yaml). The node has its own
# state dir (its rollback and lock are its own); its Go builds use the
# shared Go caches.
NODE_STATE ?= /var/lib/nodeprep/k8s-node
GO_CACHES  ?= -e go_modcache=/var/lib/nodeprep/cache/go/mod -e go_buildcache=/var/lib/nodeprep/cache/go/build
NODE_VARS  ?= $(GO_CACHES) -e go_min=1.26 -e runc_trial=false \
             --source runc=gomod:github.com/opencontainers/runc@v1.2.5 \
             --source containerd=gomod:github.com/containerd/containerd/v2@v2.2.9 \
             -e runc_dest=/usr/local/sbin/runc-criu -e runc_path=/usr/local/sbin/runc-criu \
             -e containerd_prefix=/opt/containerd-2 \
             -e cri_plugin=io.containerd.cri.v1.runtime -e containerd_config=/etc/containerd/node.toml \
             -e crharness=$(CURDIR)/$(BIN)/crharness
cluster: all
	GOMODCACHE=/var/lib/nodeprep/cache/go/mod $(BIN)/nodeprep apply --state-dir $(NODE_STATE) $(NODE_VARS) k8s/node.yaml
	@echo KUBECONFIG=/etc/kubernetes/admin.conf

cluster-down: all
	$(BIN)/nodeprep apply --state-dir $(NODE_STATE) k8s/down.yaml

# A kind cluster that can checkpoint (kind/kind-cr.yaml): kind, its base and
# node images built from source and cached in KIND_STATE, one node Ready,
# the counter image loaded. kind-cluster-down deletes the cluster only.
KIND_STATE ?= /var/lib/nodeprep/kind
kind-cluster: all
	$(BIN)/nodeprep apply --state-dir $(KIND_STATE) --recipe-path kind -e crharness=$(CURDIR)/$(BIN)/crharness kind/kind-cr.yaml

kind-cluster-down: all
	$(BIN)/nodeprep apply --state-dir $(KIND_STATE) --recipe-path kind kind/kind-down.yaml

# Side-by-side speed/memory figures (bench/README.md); never part of check.
bench: all
	bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/nodeprep/recipes \
		$(DESTDIR)$(PREFIX)/share/crharness/scenarios
	install -m 0755 bin/nodeprep bin/crharness $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/lib/nodeprep
	install -m 0644 bin/nodeprep-sources.so $(DESTDIR)$(PREFIX)/lib/nodeprep/
	install -m 0644 recipes/*.yaml $(DESTDIR)$(PREFIX)/share/nodeprep/recipes/
	install -d $(DESTDIR)$(PREFIX)/share/nodeprep/recipes/kubelet-fork $(DESTDIR)$(PREFIX)/share/nodeprep/k8s
	install -m 0644 recipes/kubelet-fork/*.tmpl $(DESTDIR)$(PREFIX)/share/nodeprep/recipes/kubelet-fork/
	install -m 0644 k8s/*.yaml $(DESTDIR)$(PREFIX)/share/nodeprep/k8s/
	install -m 0644 harness/scenarios/*.yaml $(DESTDIR)$(PREFIX)/share/crharness/scenarios/

format:
	clang-format -i $(LIB_SRC) $(UNIT_SRC) provision/main.c harness/main.c $(CRH_CMD_SRC) $(HDRS)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=missingIncludeSystem -Icommon -Iprovision -Iharness common provision harness

clean:
	rm -rf build build-asan build-fuzz bin

.PHONY: all check unit asan asan-build fuzz fuzz-smoke run nightly cluster cluster-down bench install format lint clean \
	kind-cluster kind-cluster-down
