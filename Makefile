# tape: one non-recursive Makefile. Out-of-tree builds per mode in build/<mode>/:
#   release (default)  -O2, assertions on
#   asan               ASan + UBSan, used by `make asan` and `make check`
#   fuzz               clang + libFuzzer, used by `make fuzz`
# Sources are found by directory, so adding a file needs no edit here:
#   <module>/*.c              the library (all modules), except program mains
#   server/main.c             taped            cli/*.c    tape
#   tests/unit/<module>/*.c   one Criterion binary per module (make unit M=log)
#   tests/fuzz/fuzz_*.c       one libFuzzer target each
#   bench/*.c                 one benchmark program each

MODE ?= release
BUILD := build/$(MODE)

LIB_MODULES := base io protocol log consumer-groups replication server client
CFLAGS_WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla -Wstrict-prototypes \
	-Wmissing-prototypes -Wimplicit-fallthrough -Wformat=2
CPPFLAGS := -I. -MMD -MP
LDLIBS := -luring -lzstd -lz -lsnappy -llz4 -lcurl -ljansson -lpthread

ifeq ($(MODE),release)
OPT := -O2 -g
else ifeq ($(MODE),asan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(MODE),fuzz)
CC := clang
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
LDFLAGS += -fsanitize=fuzzer,address,undefined
else
$(error MODE must be release, asan or fuzz)
endif
CFLAGS := $(CFLAGS_WARN) $(OPT) $(EXTRA_CFLAGS)

PROGRAM_MAINS := server/main.c
LIB_SRCS := $(filter-out $(PROGRAM_MAINS),$(foreach m,$(LIB_MODULES),$(wildcard $(m)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libtape.a

CLI_SRCS := $(wildcard cli/*.c)
TAPED_SRCS := $(wildcard server/main.c)
PROGRAMS := $(if $(CLI_SRCS),$(BUILD)/bin/tape) $(if $(TAPED_SRCS),$(BUILD)/bin/taped)

SUPPORT_SRCS := $(wildcard tests/support/*.c)
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_MODULES := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard tests/unit/*/*.c)))))
UNIT_BINS := $(UNIT_MODULES:%=$(BUILD)/tests/unit-%)
UNIT_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/fuzz/%,$(FUZZ_SRCS))

ALL_SRCS := $(LIB_SRCS) $(CLI_SRCS) $(TAPED_SRCS) $(SUPPORT_SRCS) $(wildcard tests/unit/*/*.c) \
	$(wildcard tests/tools/*.c) $(wildcard bench/*.c)

.PHONY: all run test unit integration asan fuzz fuzz-build bench check format format-check \
	deps clean check-deps
.DEFAULT_GOAL := all

all: $(LIB) $(PROGRAMS) $(UNIT_BINS) $(UNIT_TOOLS) $(BENCH_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/tape: $(CLI_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bin/taped: $(TAPED_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# tests/unit/cli links the cli objects too, all but the program's main.
CLI_UNIT_OBJS := $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_SRCS:%.c=$(BUILD)/obj/%.o))
define unit_rule
$(BUILD)/tests/unit-$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/unit/$(1)/*.c)) \
		$(if $(filter cli,$(1)),$(CLI_UNIT_OBJS)) $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -lcriterion -o $$@
endef
$(foreach m,$(UNIT_MODULES),$(eval $(call unit_rule,$(m))))

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

build/fuzz/fuzz/%: build/fuzz/obj/tests/fuzz/%.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find build/$(MODE)/obj -name '*.d' 2>/dev/null)

# ---- the README's commands ---------------------------------------------------------------

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit integration

# ---- tests ---------------------------------------------------------------------------------

# make unit            every module's Criterion binary
# make unit M=log      one module
unit: $(if $(M),$(BUILD)/tests/unit-$(M),$(UNIT_BINS)) $(UNIT_TOOLS)
	@scripts/run-unit.sh $(BUILD) $(if $(M),$(M),$(UNIT_MODULES))

integration: $(PROGRAMS) $(UNIT_TOOLS)
	@tests/integration/run.sh $(BUILD)

asan:
	@$(MAKE) --no-print-directory MODE=asan all
	@$(MAKE) --no-print-directory MODE=asan unit integration

# make fuzz                 every target for FUZZ_SECONDS (default 60) each
# make fuzz F=fuzz_batch    one target
FUZZ_SECONDS ?= 60
fuzz:
	@$(MAKE) --no-print-directory MODE=fuzz fuzz-build
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(if $(F),$(F),$(notdir $(FUZZ_BINS)))

fuzz-build: $(FUZZ_BINS)

bench: all
	@scripts/bench-log.sh $(BUILD)

# ---- hygiene -------------------------------------------------------------------------------

FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h')

format:
	@clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format: ok"

check-deps:
	@scripts/check-deps.sh

check: format-check check-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@echo "check: ok"

clean:
	rm -rf build
