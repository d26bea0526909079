/* libplug.so.1: dlopened by libnote; it needs libplugdep.so.1 (its own closure). */
#include <stdio.h>
int plugdep_value(void);
const char *plug_message(void) {
  static char text[64];
  snprintf(text, sizeof text, "hello from the dlopen'd plug (%d)", plugdep_value());
  return text;
}
