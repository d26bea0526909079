/* One FDO dlopen note (systemd.io/ELF_DLOPEN_METADATA) in section .note.dlopen, laid out as
   systemd's sd-dlopen.h lays it out: Elf_Nhdr (namesz, descsz, type 0x407c0c0a), the owner "FDO"
   with its NUL, then the NUL-terminated JSON, each 4-byte aligned. GNU as makes a ".note*" section
   SHT_NOTE, and ld puts an allocated one in a PT_NOTE segment. */
#include <stdint.h>

#define DLOPEN_NOTE(ident, json)                                                   \
  __attribute__((used, section(".note.dlopen"), aligned(4))) static const struct { \
    uint32_t namesz, descsz, type;                                                 \
    char owner[4];                                                                 \
    _Alignas(4) char desc[sizeof(json)];                                           \
  } ident = {4, sizeof(json), 0x407c0c0a, "FDO", json}
