// ELF constants used by the reader, from the System V gABI and glibc's <elf.h>.

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_NAMES: Record<number, string> = { 0: 'NONE', 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' };

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;

export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_STRTAB = 5;
export const DT_STRSZ = 10;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_FLAGS = 30;
export const DT_RUNPATH = 29;
export const DT_FLAGS_1 = 0x6ffffffb;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
export const DT_VERNEED = 0x6ffffffe;
export const DT_VERNEEDNUM = 0x6fffffff;

export const DF_ORIGIN = 0x1;
export const DF_1_NODEFLIB = 0x800;
export const DF_1_PIE = 0x08000000;

export const EM_386 = 3;
export const EM_MIPS = 8;
export const EM_PPC = 20;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;

export const EF_ARM_ABI_FLOAT_SOFT = 0x200;
export const EF_ARM_ABI_FLOAT_HARD = 0x400;
export const EF_RISCV_FLOAT_ABI = 0x6;
export const EF_MIPS_ABI2 = 0x20; // n32

// Dynamic symbol table (read-symbols.ts).
export const DT_HASH = 4;
export const DT_SYMTAB = 6;
export const DT_SYMENT = 11;
export const DT_GNU_HASH = 0x6ffffef5;
export const DT_MIPS_SYMTABNO = 0x70000011; // processor-specific: only meaningful with EM_MIPS
export const SHT_DYNSYM = 11;
export const SHN_UNDEF = 0;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const EM_ALPHA = 0x9026;
export const EM_S390_OLD = 0xa390;
// Tables ld places after .dynsym: where it ends when nothing else says (read-symbols.ts).
export const DT_PLTGOT = 3;
export const DT_RELA = 7;
export const DT_INIT = 12;
export const DT_REL = 17;
export const DT_JMPREL = 23;
export const DT_RELR = 36;
export const DT_VERSYM = 0x6ffffff0;
