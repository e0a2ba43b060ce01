# xenith: one non-recursive Makefile. `make run` and `make test` do all
# set-up on a fresh Debian 12 machine (installer/deps.sh), then build.
#
#   make            build build/xenithd (and the tools)
#   make run        deps + build + start on https://127.0.0.1:8443 (data ./var)
#   make test       deps + build + lint + fmt-check + every test suite
#                   (test-xen: real Xen under QEMU, 3-10 min)
#   make test SAN=1 the same build with ASan+UBSan, unit and e2e suites
#   make fmt        reformat the C sources with .clang-format

SAN ?= 0
ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
else
BUILD := build
SANFLAGS :=
endif

CC ?= gcc
PKGS := libmicrohttpd libwebsockets jansson sqlite3 libzstd libcrypto libssl \
        xenlight xenstat xenstore xentoollog
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu17 $(WARN) $(CFLAGS) $(SANFLAGS) -I. -I$(BUILD)/gen \
              -D_GNU_SOURCE -pthread -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS := $(SANFLAGS) -pthread $(LDFLAGS)
LIBS := $(PKG_LIBS) -lm

# Sources by folder; new files are picked up without editing this file.
COMMON_SRC := $(wildcard common/*.c)
DB_SRC := $(wildcard db/*.c)
XEN_SRC := $(wildcard xen/*.c xen/test/*.c xen/libxl/*.c)
BACKUP_SRC := $(filter-out backup/cli/%,$(wildcard backup/*.c))
SERVER_SRC := $(filter-out server/main.c,\
    $(wildcard server/*.c server/core/*.c server/api/*.c server/http/*.c \
               server/ws/*.c))
LIB_SRC := $(COMMON_SRC) $(DB_SRC) $(XEN_SRC) $(BACKUP_SRC) $(SERVER_SRC)
GEN_SRC := $(BUILD)/gen/migrations.c $(BUILD)/gen/openapi_doc.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(GEN_SRC:%.c=%.o)

UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all web web-gz deps run test test-unit test-e2e test-browser lint \
        fmt fmt-check clean bench-api bench-ws bench-backup xen-image \
        test-xen xen-demo

all: $(BUILD)/xenithd $(UNIT_BIN) web-gz $(BUILD)/xenith-backup $(BUILD)/xenith

# Precompressed twins of the UI's files, served to gzip-capable clients.
web-gz: web
	@sh installer/gzip-web.sh web

# The browser UI: ui/ (Preact, xterm.js, uPlot from the pinned lock file)
# built by Vite into web/, the static root xenithd serves.
UI_SRC := $(shell find ui/src -type f 2>/dev/null) ui/vite.config.js
# npm ci, or, where a registry mirror lacks some other platform's optional
# package (npm ci then calls the lock file out of sync), npm install
# --no-save: the same pinned versions, the lock file untouched.
ui/node_modules/.stamp: ui/package.json ui/package-lock.json
	cd ui && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || \
	    npm install --no-save --no-audit --no-fund --loglevel=error; }
	@touch $@

web/index.html: ui/node_modules/.stamp $(UI_SRC)
	cd ui && npx vite build --logLevel warn

web: web/index.html

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.c: installer/gen-migrations.sh $(sort $(wildcard db/migrations/*.sql))
	@mkdir -p $(dir $@)
	sh installer/gen-migrations.sh $(sort $(wildcard db/migrations/*.sql)) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/openapi_doc.c: installer/gen-embed.sh docs/openapi.json
	@mkdir -p $(dir $@)
	sh installer/gen-embed.sh openapi_doc docs/openapi.json > $@.tmp && mv $@.tmp $@

$(BUILD)/libxenith.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/xenithd: $(BUILD)/obj/server/main.o $(BUILD)/libxenith.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libxenith.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libxenith.a $(LIBS) -lcmocka

deps:
	@sh installer/deps.sh

run: deps
	$(MAKE) all
	@mkdir -p var
	$(BUILD)/xenithd --listen 127.0.0.1:8443 --data ./var --demo

lint:
	@sh tests/lint.sh

fmt:
	clang-format -i $(shell git ls-files '*.c' '*.h')

fmt-check:
	@clang-format --dry-run --Werror $(shell git ls-files '*.c' '*.h') && echo "fmt-check: ok"

test-unit: all
	@sh tests/run-unit.sh $(BUILD)/tests

test-e2e: all
	@XENITHD=$(BUILD)/xenithd python3 tests/e2e/run.py

test-browser: all
	@XENITHD=$(BUILD)/xenithd node tests/browser/run.mjs

ifeq ($(SAN),1)
test: deps
	$(MAKE) SAN=1 all
	$(MAKE) SAN=1 test-unit test-e2e test-backup
else
test: deps
	$(MAKE) all
	$(MAKE) lint fmt-check
	$(MAKE) test-unit test-e2e test-browser test-backup
	$(MAKE) test-xen
endif

# ---- backup: the standalone xenith-backup CLI (issue 4) ----
# Linked from backup/ and common/ objects only (never db/ xen/ server/),
# through a small archive of its own, to prove it needs nothing else.
BK_CLI_SRC := $(wildcard backup/cli/*.c)
BK_LIB_OBJ := $(BACKUP_SRC:%.c=$(BUILD)/obj/%.o) \
              $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
BK_LIBS := $(shell pkg-config --libs libzstd libcrypto jansson 2>/dev/null)

$(BUILD)/libxenith-backup.a: $(BK_LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/xenith-backup: $(BK_CLI_SRC:%.c=$(BUILD)/obj/%.o) \
                        $(BUILD)/libxenith-backup.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BK_LIBS) -lm

.PHONY: test-backup
test-backup: all
	@XENITH_BACKUP=$(BUILD)/xenith-backup sh tests/backup/run.sh

-include $(BK_CLI_SRC:%.c=$(BUILD)/obj/%.d)
# ---- end backup ----

# The `xenith` CLI: the API over the local socket (common/ and jansson).
CLI_SRC := $(wildcard server/cli/*.c)
$(BUILD)/xenith: $(CLI_SRC:%.c=$(BUILD)/obj/%.o) \
                 $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
	@echo "  LINK    $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BK_LIBS) -lm

-include $(CLI_SRC:%.c=$(BUILD)/obj/%.d)

# Real Xen 4.17 under QEMU TCG with this build's xenithd in dom0
# (tests/xen/). The Debian packages are cached in build/xen-work.
XEN_WORK := $(BUILD)/xen-work

xen-image: all
	@XENITHD=$(BUILD)/xenithd bash tests/xen/build-image.sh $(XEN_WORK)

test-xen: xen-image
	@timeout 900 python3 tests/xen/test_xen.py --work $(XEN_WORK)

xen-demo: xen-image
	@bash tests/xen/demo.sh $(XEN_WORK) $(or $(PORT),18443)

clean:
	rm -rf build

# Side-by-side benchmarks (not part of make test): results in bench/*/RESULTS.md.
bench-api: all
	@sh installer/deps.sh bench
	sh bench/api/run.sh

bench-ws: all
	@sh installer/deps.sh bench
	sh bench/ws/run.sh

bench-backup: all
	@sh installer/deps.sh bench
	sh bench/backup/run.sh

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/server/main.d
