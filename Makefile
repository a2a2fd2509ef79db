# ngx_mkt: build the nginx module, the src/ core library, the mkt CLI, and
# run the tests.  `make demo` and `make test` are all a newcomer needs.

SHELL      := /bin/bash
.DEFAULT_GOAL := all
CC         ?= cc
NGINX_SRC  ?= /usr/share/nginx/src
NGINX_BIN  ?= /usr/sbin/nginx
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

BUILD      := build
OBJS       := objs
MODULE     := $(OBJS)/ngx_http_mkt_module.so
LIBMKT     := $(OBJS)/libmkt.a
CLI        := $(OBJS)/mkt

# Every Debian package the build, tests, demo and benchmarks need.
DEB_PACKAGES := build-essential nginx nginx-dev libpcre2-dev zlib1g-dev \
	libssl-dev libluajit2-5.1-dev libhiredis-dev libjansson-dev \
	libmaxminddb-dev redis-server libcmocka-dev clang libclang-rt-dev \
	wrk hyperfine libnginx-mod-http-lua lua-nginx-redis \
	libmaxmind-db-writer-perl chromium \
	perl curl util-linux pkg-config

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DEPS_CFLAGS := -I/usr/include/luajit-2.1 -I/usr/include/hiredis
DEPS_LIBS   := -lhiredis -ljansson -lmaxminddb -lluajit-5.1 -lpcre2-8 \
	-lcrypto -lm

WARN   := -Wall -Wextra -Wpointer-arith -Wshadow -Wstrict-prototypes \
	-Wno-unused-parameter -Werror
CFLAGS ?= -O2 -g
MKT_CFLAGS = -std=c99 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) \
	$(CFLAGS) -Isrc $(DEPS_CFLAGS)

SRC_C      := $(filter-out src/cli/%,$(wildcard src/*.c))
CLI_C      := $(wildcard src/cli/*.c)
UNIT_C     := $(wildcard tests/unit/test_*.c)
GLUE_C     := $(wildcard ngx_mkt_module/*.c ngx_mkt_module/*.h src/*.h)

# Objects of one flavour (plain or asan) live in $(BUILD)/<flavour>/.
define core_rules
$(BUILD)/$(1)/src/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/$(1)/src/cli
	$$(CC) $$(MKT_CFLAGS) $(2) -c -o $$@ $$<
$(BUILD)/$(1)/tests/%: tests/unit/%.c $(3) $(wildcard tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(MKT_CFLAGS) $(2) -Itests/unit -o $$@ $$< $(3) -lcmocka \
		$$(DEPS_LIBS) $(2)
$(BUILD)/$(1)/src/cli:
	mkdir -p $$@
endef

PLAIN_OBJ := $(SRC_C:%.c=$(BUILD)/plain/%.o)
ASAN_OBJ  := $(SRC_C:%.c=$(BUILD)/asan/%.o)
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ASAN_LIB  := $(BUILD)/asan/libmkt.a

$(eval $(call core_rules,plain,,$(LIBMKT)))
$(eval $(call core_rules,asan,$(ASAN_FLAGS),$(ASAN_LIB)))

UNIT_BIN      := $(UNIT_C:tests/unit/%.c=$(BUILD)/plain/tests/%)
ASAN_UNIT_BIN := $(UNIT_C:tests/unit/%.c=$(BUILD)/asan/tests/%)

.PHONY: all deps module lib cli test unit integration asan asan-unit \
	asan-integration fuzz fuzz-regress demo soak bench bench-engine clean \
	distclean

all: module lib cli

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing \
		|| { $(SUDO) apt-get update -q && \
		     $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install \
			-y -q --no-install-recommends $$missing; }; \
	fi

lib: $(LIBMKT)
cli: $(CLI)

$(LIBMKT): $(PLAIN_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(ASAN_LIB): $(ASAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_C) $(LIBMKT) $(wildcard src/cli/*.h)
	@mkdir -p $(@D)
	$(CC) $(MKT_CFLAGS) -o $@ $(CLI_C) $(LIBMKT) $(DEPS_LIBS)

# the mkt tool under ASan/UBSan, for t/050 in make asan
ASAN_CLI := $(BUILD)/asan/mkt
$(ASAN_CLI): $(CLI_C) $(ASAN_LIB) $(wildcard src/cli/*.h) | deps
	$(CC) $(MKT_CFLAGS) $(ASAN_FLAGS) -o $@ $(CLI_C) $(ASAN_LIB) \
		$(DEPS_LIBS) $(ASAN_FLAGS)

# --- the nginx module -------------------------------------------------------
# nginx's build copies the source tree, configures it the way the installed
# binary was configured (conf_flags from nginx-dev) and builds only modules.
# A new source file changes the list in srclist, which reconfigures.

NGX_CC_OPT := -g -O2 -fstack-protector-strong -Wformat \
	-Werror=format-security -fPIC -D_FORTIFY_SOURCE=2
NGX_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC

define nginx_tree
# srclist is rewritten (here, as the Makefile is read) only when the list
# of sources changes, so that only a new or removed file reconfigures.
$$(shell mkdir -p $(BUILD)/$(1); \
	echo "$(SRC_C) $(GLUE_C)" | cmp -s - $(BUILD)/$(1)/srclist || \
	echo "$(SRC_C) $(GLUE_C)" > $(BUILD)/$(1)/srclist)

$(BUILD)/$(1)/nginx/objs/Makefile: config $(BUILD)/$(1)/srclist $(3)
	rm -rf $(BUILD)/$(1)/nginx
	cp -a $(2)/. $(BUILD)/$(1)/nginx
	cd $(BUILD)/$(1)/nginx && flags=(--with-compat); \
	if [ -f $(NGINX_SRC)/conf_flags ]; then . $(NGINX_SRC)/conf_flags; \
		flags=("$$$${NGX_CONF_FLAGS[@]}"); fi; \
	./configure "$$$${flags[@]}" \
		--with-cc-opt="$(NGX_CC_OPT) $(4)" \
		--with-ld-opt="$(NGX_LD_OPT) $(4)" \
		--add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	|| { tail -30 configure.log; exit 1; }
endef


# nginx-dev ships headers only; the ASan nginx is built from the upstream
# tarball of the installed version, taken from Debian's archive.
NGINX_VERSION := $(shell dpkg-query -W -f='$${Version}' nginx 2>/dev/null \
	| sed 's/^[0-9]*://; s/-.*//')
NGINX_TARBALL := $(BUILD)/asan/nginx_$(NGINX_VERSION).orig.tar.gz
NGINX_ASAN_SRC := $(BUILD)/asan/nginx-$(NGINX_VERSION)

$(NGINX_TARBALL):
	@mkdir -p $(@D)
	curl -fsSL -o $@.tmp http://deb.debian.org/debian/pool/main/n/nginx/$(@F)
	mv $@.tmp $@

$(NGINX_ASAN_SRC)/configure: $(NGINX_TARBALL)
	tar -C $(BUILD)/asan -xzf $<
	touch $@

# NGX_DEBUG_PALLOC gives every pool allocation its own malloc, so ASan
# sees overruns inside request pools too.
$(eval $(call nginx_tree,plain,$(NGINX_SRC),,))
# UBSan stays recoverable here so that tests/asan/ubsan.supp can silence
# reports from nginx's own code; the harness fails on any that get through.
NGX_ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-DNGX_DEBUG_PALLOC=1
$(eval $(call nginx_tree,asan,$(NGINX_ASAN_SRC),$(NGINX_ASAN_SRC)/configure,\
	$(NGX_ASAN_FLAGS)))

module: deps $(BUILD)/plain/nginx/objs/Makefile
	$(MAKE) -C $(BUILD)/plain/nginx -j$(JOBS) -f objs/Makefile modules
	@mkdir -p $(OBJS)
	@# rename, not overwrite: a running nginx has the old file mapped
	cp $(BUILD)/plain/nginx/objs/ngx_http_mkt_module.so $(MODULE).tmp
	mv -f $(MODULE).tmp $(MODULE)

# make asan: nginx itself and the module built with ASan/UBSan, then the same
# unit and integration suites.
ASAN_NGINX := $(BUILD)/asan/nginx/objs/nginx
# detect_odr_violation=0: every nginx module .so defines ngx_module_names
# and ngx_modules for dlsym(), as the nginx binary does, by design.
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/asan/ubsan.supp

asan-build: deps $(BUILD)/asan/nginx/objs/Makefile
	$(MAKE) -C $(BUILD)/asan/nginx -j$(JOBS) -f objs/Makefile \
		binary modules

# --- tests ------------------------------------------------------------------

test: unit integration fuzz-regress

# libFuzzer targets (clang, ASan+UBSan): replay the checked-in corpora, or
# fuzz each target for FUZZ_SECONDS (60); see tests/fuzz/README.md
fuzz-regress: deps
	tests/fuzz/run.sh regress

fuzz: deps
	tests/fuzz/run.sh fuzz

unit: deps $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Two lanes: the load tests (t/07*, wrk) one after the other from the
# start, every other file one after the other beside them; two loads never
# share the CPUs, and the longest files do not come last (t/README.md).
integration: module cli
	MKT_MODULE=$(CURDIR)/$(MODULE) MKT_CLI=$(CURDIR)/$(CLI) \
		prove -j2 --rules='seq=t/07*.t' --rules='seq=**' -It/lib t/

asan: asan-unit asan-integration

asan-unit: deps $(ASAN_UNIT_BIN)
	@set -e; for t in $(ASAN_UNIT_BIN); do echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 $$t; done

asan-integration: asan-build $(ASAN_CLI)
	$(ASAN_ENV) NGINX_BIN=$(CURDIR)/$(ASAN_NGINX) \
	MKT_MODULE=$(CURDIR)/$(BUILD)/asan/nginx/objs/ngx_http_mkt_module.so \
	MKT_CLI=$(CURDIR)/$(ASAN_CLI) \
		prove -It/lib t/

demo: all
	conf.d/demo.sh $(CURDIR)/$(MODULE)

# the benchmark's mix for SOAK_DURATION seconds (600) under ASan, 2 workers:
# RSS, descriptors, zones and the error log checked (tests/soak/run.sh)
soak: asan-build
	tests/soak/run.sh

# the engine first, on its own: the module builds before either runs
BENCH_ENGINE := $(BUILD)/plain/bench/engine

$(BENCH_ENGINE): $(wildcard tests/bench/engine/*.c) $(LIBMKT) \
		$(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(MKT_CFLAGS) -o $@ $(filter %.c,$^) $(LIBMKT) $(DEPS_LIBS)

bench: module $(BENCH_ENGINE)
	tests/bench/engine/run.sh $(CURDIR)/$(BENCH_ENGINE)
	tests/bench/run.sh

bench-engine: deps $(BENCH_ENGINE)
	tests/bench/engine/run.sh $(CURDIR)/$(BENCH_ENGINE)

clean:
	rm -rf $(BUILD) $(OBJS)

distclean: clean
