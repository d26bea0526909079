/* libplug.so.1: dlopened by libnote; it needs libplugdep.so.1 (its own closure) and declares in its
   own note a library it would dlopen in turn (libdeep.so.1), which elfpack follows too. */
#include <stdio.h>
#include "dlopen-note.h"

DLOPEN_NOTE(deep_note, "[{\"soname\":[\"libdeep.so.1\"],\"feature\":\"deep\",\"description\":\"Declared by the plug-in itself\",\"priority\":\"required\"}]");

int plugdep_value(void);
const char *plug_message(void) {
  static char text[64];
  snprintf(text, sizeof text, "hello from the dlopen'd plug (%d)", plugdep_value());
  return text;
}
