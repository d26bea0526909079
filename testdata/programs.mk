# Test programs built from testdata/programs into $(FIXTURES) (default build/fixtures).
# Included by the top-level Makefile; also works alone: make -f testdata/programs.mk fixtures
FIXTURES ?= build/fixtures
P := testdata/programs
F := $(FIXTURES)
CC ?= gcc
CFLAGS_FIX := -O2 -g0
MULTIARCH := x86_64-linux-gnu
GOENV := GO111MODULE=off GOTOOLCHAIN=local GOFLAGS= GOCACHE=$(abspath $(F))/.gocache GOPATH=$(abspath $(F))/.gopath

FIXTURE_TARGETS := \
  $(F)/glibc/hello $(F)/glibc/hello-nopie $(F)/glibc/cancel \
  $(F)/static/hello-static $(F)/static/hello-static-pie \
  $(F)/musl/hello-musl $(F)/musl/hello-musl-static \
  $(F)/cxx/hello-cxx \
  $(F)/origin/bin/app \
  $(F)/rpath/bin/app $(F)/rpath/bin/app-runpath \
  $(F)/confroot/usr/bin/app-conf $(F)/confroot-cache/etc/ld.so.cache \
  $(F)/missing/app-missing \
  $(F)/wrongarch/bin/app \
  $(F)/go/gostatic $(F)/go/gocgo $(F)/go/gostatic-arm64 $(F)/go/gotls $(F)/oldlibc/libc.so.6 \
  $(F)/script/run.sh $(F)/script/crlf.sh \
  $(F)/dlopen/bin/app $(F)/dlopen/lib/libsecnote.so.1

.PHONY: fixtures
fixtures: $(FIXTURE_TARGETS)

# glibc, dynamic (PIE by default) and not PIE; pthread_cancel.
$(F)/glibc/hello: $(P)/hello/hello.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -o $@ $<
$(F)/glibc/hello-nopie: $(P)/hello/hello.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -no-pie -DGREETING='"hello from glibc-nopie"' -o $@ $<
$(F)/glibc/cancel: $(P)/cancel/cancel.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -pthread -o $@ $<

# Static: ET_EXEC without PT_DYNAMIC, and static-pie (ET_DYN, DF_1_PIE, no PT_INTERP).
$(F)/static/hello-static: $(P)/hello/hello.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -static -DGREETING='"hello from static"' -o $@ $<
$(F)/static/hello-static-pie: $(P)/hello/hello.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -static-pie -DGREETING='"hello from static-pie"' -o $@ $<

# musl (musl-tools): PT_INTERP /lib/ld-musl-x86_64.so.1.
$(F)/musl/hello-musl: $(P)/hello/hello.c
	@mkdir -p $(@D)
	musl-gcc $(CFLAGS_FIX) -DGREETING='"hello from musl"' -o $@ $<
$(F)/musl/hello-musl-static: $(P)/hello/hello.c
	@mkdir -p $(@D)
	musl-gcc $(CFLAGS_FIX) -static -DGREETING='"hello from musl-static"' -o $@ $<

$(F)/cxx/hello-cxx: $(P)/cxx/hello.cc
	@mkdir -p $(@D)
	g++ $(CFLAGS_FIX) -o $@ $<

# $ORIGIN: bin/app has RUNPATH $ORIGIN/../lib; libgreet (a real file behind two links) finds
# libdep through its own RUNPATH $ORIGIN.
$(F)/origin/lib/libdep.so.1: $(P)/origin/dep.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libdep.so.1 -o $@ $<
$(F)/origin/lib/libgreet.so.1.0.0: $(P)/origin/greet.c $(F)/origin/lib/libdep.so.1
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libgreet.so.1 -Wl,--enable-new-dtags,-rpath,'$$ORIGIN' -o $@ $< -L$(F)/origin/lib -l:libdep.so.1
	ln -sf libgreet.so.1.0.0 $(F)/origin/lib/libgreet.so.1
	ln -sf libgreet.so.1 $(F)/origin/lib/libgreet.so
$(F)/origin/bin/app: $(P)/origin/app.c $(F)/origin/lib/libgreet.so.1.0.0
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -o $@ $< -L$(F)/origin/lib -lgreet -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/../lib'

# RPATH of the loading chain: app's DT_RPATH lists lib and lib2; libouter (no paths of its own)
# finds libinner only through it. app-runpath has the same list as DT_RUNPATH: libinner is missing.
$(F)/rpath/lib2/libinner.so.1: $(P)/rpath/inner.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libinner.so.1 -o $@ $<
$(F)/rpath/lib/libouter.so.1: $(P)/rpath/outer.c $(F)/rpath/lib2/libinner.so.1
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libouter.so.1 -o $@ $< -L$(F)/rpath/lib2 -l:libinner.so.1
$(F)/rpath/bin/app: $(P)/rpath/app.c $(F)/rpath/lib/libouter.so.1
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -o $@ $< -L$(F)/rpath/lib -l:libouter.so.1 -Wl,-rpath-link,$(F)/rpath/lib2 -Wl,--disable-new-dtags,-rpath,'$$ORIGIN/../lib:$$ORIGIN/../lib2'
$(F)/rpath/bin/app-runpath: $(P)/rpath/app.c $(F)/rpath/lib/libouter.so.1
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -o $@ $< -L$(F)/rpath/lib -l:libouter.so.1 -Wl,-rpath-link,$(F)/rpath/lib2 -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/../lib:$$ORIGIN/../lib2'

# A root where a library is known only through ld.so.conf (no cache), and a copy with a cache
# that ldconfig -r made for it (needs root; without it that one fixture is not built).
define make-confroot
	rm -rf $(1) && mkdir -p $(1)/usr/lib/$(MULTIARCH) $(1)/usr/bin $(1)/opt/conflib $(1)/etc/ld.so.conf.d $(1)/lib64
	ln -s usr/lib $(1)/lib
	cp -L /lib/$(MULTIARCH)/libc.so.6 /lib64/ld-linux-x86-64.so.2 $(1)/usr/lib/$(MULTIARCH)/
	ln -s /lib/$(MULTIARCH)/ld-linux-x86-64.so.2 $(1)/lib64/ld-linux-x86-64.so.2
	printf 'include /etc/ld.so.conf.d/*.conf\n' > $(1)/etc/ld.so.conf
	printf '/opt/conflib\n' > $(1)/etc/ld.so.conf.d/conflib.conf
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libconf.so.1 -o $(1)/opt/conflib/libconf.so.1 $(P)/conf/conf.c
	$(CC) $(CFLAGS_FIX) -o $(1)/usr/bin/app-conf $(P)/conf/app.c -L$(1)/opt/conflib -l:libconf.so.1
endef
$(F)/confroot/usr/bin/app-conf: $(P)/conf/app.c $(P)/conf/conf.c
	$(call make-confroot,$(F)/confroot)
$(F)/confroot-cache/etc/ld.so.cache: $(P)/conf/app.c $(P)/conf/conf.c
	$(call make-confroot,$(F)/confroot-cache)
	ldconfig -r $(F)/confroot-cache

# A library that is gone after linking.
$(F)/missing/app-missing: $(P)/missing/app.c $(P)/missing/gone.c
	@mkdir -p $(@D)/.build
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libgone.so.1 -o $(@D)/.build/libgone.so.1 $(P)/missing/gone.c
	$(CC) $(CFLAGS_FIX) -o $@ $(P)/missing/app.c -L$(@D)/.build -l:libgone.so.1
	rm -rf $(@D)/.build

# A 32-bit libwa.so.1 earlier on the RUNPATH than the 64-bit one: ld.so skips it (gcc-multilib).
$(F)/wrongarch/lib32/libwa.so.1: $(P)/wrongarch/wa.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -m32 -shared -fPIC -Wl,-soname,libwa.so.1 -o $@ $<
$(F)/wrongarch/lib64/libwa.so.1: $(P)/wrongarch/wa.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libwa.so.1 -o $@ $<
$(F)/wrongarch/bin/app: $(P)/wrongarch/app.c $(F)/wrongarch/lib32/libwa.so.1 $(F)/wrongarch/lib64/libwa.so.1
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -o $@ $< -L$(F)/wrongarch/lib64 -l:libwa.so.1 -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/../lib32:$$ORIGIN/../lib64'

# Go (golang-go): static with CGO_ENABLED=0, dynamic with one cgo call. Reproducible flags.
$(F)/go/gostatic: $(P)/go/gostatic/main.go
	@mkdir -p $(@D)
	cd $(P)/go/gostatic && $(GOENV) CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o $(abspath $@) main.go
$(F)/go/gostatic-arm64: $(P)/go/gostatic/main.go
	@mkdir -p $(@D)
	cd $(P)/go/gostatic && $(GOENV) CGO_ENABLED=0 GOARCH=arm64 go build -trimpath -buildvcs=false -ldflags='-s -w' -o $(abspath $@) main.go
# A TLS client (net/http, crypto/x509), stripped as elfpack go strips: its function names stay.
$(F)/go/gotls: $(P)/go/gotls/main.go
	@mkdir -p $(@D)
	cd $(P)/go/gotls && $(GOENV) CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o $(abspath $@) main.go
$(F)/go/gocgo: $(P)/go/gocgo/main.go
	@mkdir -p $(@D)
	cd $(P)/go/gocgo && $(GOENV) CGO_ENABLED=1 go build -trimpath -buildvcs=false -ldflags='-s -w' -o $(abspath $@) main.go

$(F)/script/%.sh: $(P)/script/%.sh
	@mkdir -p $(@D)
	cp -p $< $@

# A libc.so.6 that defines only GLIBC_2.2.5: an "older glibc" for doctor's symbol-version finding.
$(F)/oldlibc/libc.so.6: $(P)/oldlibc/libc.c $(P)/oldlibc/libc.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -nostdlib -Wl,-soname,libc.so.6 -Wl,--version-script=$(P)/oldlibc/libc.map -o $@ $<

# .note.dlopen: bin/app (RUNPATH $ORIGIN/../lib) needs libnote.so.1, whose note declares libplug
# (required; libplug.so.2 then libplug.so.1), libabsent.so.9 (recommended, nowhere) and, in the
# older one-object form, libsuggest.so.1 (suggested). libnote dlopens libplug.so.1 at run time,
# found through libnote's own RUNPATH $ORIGIN/../plugins (not the program's); libplug needs
# libplugdep.so.1, and its own note declares libdeep.so.1 (required). libsecnote.so.1 carries the same note bytes in a section objcopy added, outside
# every PT_NOTE segment.
$(F)/dlopen/plugins/libplugdep.so.1: $(P)/dlopen/plugdep.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libplugdep.so.1 -o $@ $<
$(F)/dlopen/plugins/libsuggest.so.1: $(P)/dlopen/suggest.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libsuggest.so.1 -o $@ $<
$(F)/dlopen/plugins/libdeep.so.1: $(P)/dlopen/deep.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libdeep.so.1 -o $@ $<
$(F)/dlopen/plugins/libplug.so.1: $(P)/dlopen/plug.c $(P)/dlopen/dlopen-note.h $(F)/dlopen/plugins/libplugdep.so.1 $(F)/dlopen/plugins/libdeep.so.1
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libplug.so.1 -Wl,--enable-new-dtags,-rpath,'$$ORIGIN' -o $@ $< -L$(F)/dlopen/plugins -l:libplugdep.so.1
$(F)/dlopen/lib/libnote.so.1: $(P)/dlopen/note.c $(P)/dlopen/dlopen-note.h $(F)/dlopen/plugins/libplug.so.1 $(F)/dlopen/plugins/libsuggest.so.1
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libnote.so.1 -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/../plugins' -o $@ $<
$(F)/dlopen/bin/app: $(P)/dlopen/app.c $(F)/dlopen/lib/libnote.so.1
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_FIX) -o $@ $< -L$(F)/dlopen/lib -l:libnote.so.1 -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/../lib'
$(F)/dlopen/lib/libsecnote.so.1: $(P)/dlopen/plain.c $(F)/dlopen/lib/libnote.so.1
	$(CC) $(CFLAGS_FIX) -shared -fPIC -Wl,-soname,libsecnote.so.1 -o $@.plain $<
	objcopy --dump-section .note.dlopen=$@.note $(F)/dlopen/lib/libnote.so.1
	objcopy --add-section .note.dlopen=$@.note $@.plain $@
	rm -f $@.plain $@.note
