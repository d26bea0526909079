/* libnote.so.1: declares, in its .note.dlopen, the plug-in it dlopens at run time (by soname, found
   through this library's own RUNPATH), an absent library and a suggested extra. */
#include <dlfcn.h>
#include <stdio.h>
#include "dlopen-note.h"

/* The array form: alternatives, most preferred first; an unknown key is ignored. */
DLOPEN_NOTE(plug_note,
            "[{\"soname\":[\"libplug.so.2\",\"libplug.so.1\"],\"feature\":\"plug\","
            "\"description\":\"Greets through a plug-in\",\"priority\":\"required\"},"
            "{\"soname\":[\"libabsent.so.9\"],\"feature\":\"absent\",\"description\":\"A library no root has\","
            "\"priority\":\"recommended\",\"x-elfpack-test\":{\"ignored\":true}}]");
/* The older form: a single object, its soname a string. */
DLOPEN_NOTE(extra_note,
            "{\"soname\":\"libsuggest.so.1\",\"feature\":\"extra\",\"description\":\"An optional extra\","
            "\"priority\":\"suggested\"}");

int note_greet(void) {
  void *h = dlopen("libplug.so.2", RTLD_NOW);
  if (!h) h = dlopen("libplug.so.1", RTLD_NOW);
  if (!h) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  const char *(*message)(void) = (const char *(*)(void))dlsym(h, "plug_message");
  if (!message) {
    fprintf(stderr, "dlsym: %s\n", dlerror());
    return 1;
  }
  puts(message());
  return 0;
}
