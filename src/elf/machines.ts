// e_machine (with class, byte order and flags) → OCI platform, multiarch triplet and loader names.
// Loader paths and cache flags follow glibc's sysdeps/*/ldconfig.h and dl-cache.h, and musl's arch names.
import {
  EF_ARM_ABI_FLOAT_HARD, EF_MIPS_ABI2, EF_RISCV_FLOAT_ABI, ELFCLASS64, ELFDATA2MSB,
  EM_386, EM_AARCH64, EM_ARM, EM_LOONGARCH, EM_MIPS, EM_PPC, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64,
} from './constants.js';

export interface MachineInfo {
  /** A short name for messages: x86_64, aarch64, armhf… */
  name: string;
  /** OCI image-spec `architecture` (GOARCH names). */
  ociArch: string;
  ociVariant?: string;
  /** Debian multiarch triplet, used for default library directories and $LIB. */
  triplet: string;
  /** glibc's PT_INTERP for this ABI. */
  glibcLoader: string;
  /** musl's LDSO_ARCH: /lib/ld-musl-ARCH.so.1 and /etc/ld-musl-ARCH.path. */
  muslArch: string;
  /** The value of `flags` that glibc's ld.so.cache lookup accepts for this ABI (_DL_CACHE_DEFAULT_ID). */
  cacheFlags: number;
  /** AT_PLATFORM as the kernel usually reports it, for $PLATFORM. */
  platform: string;
}

/** The facts about a header needed to tell the ABI: e_machine alone is not enough (ARM float ABI, PPC64 byte order). */
export interface AbiKey {
  machine: number;
  elfClass: number;
  data: number;
  flags: number;
}

const FLAG_ELF_LIBC6 = 0x0003;
// Thousands of files share a handful of ABIs: one answer each, shared (callers do not modify it).
const known = new Map<number, MachineInfo | undefined>();

export function machineInfo(key: AbiKey): MachineInfo | undefined {
  // machine (16 bits), class and byte order (2 bits each), flags (32 bits): an exact number below 2^53.
  const k = ((key.machine * 4 + key.elfClass) * 4 + key.data) * 0x100000000 + (key.flags >>> 0);
  if (known.has(k)) return known.get(k);
  const m = describeMachine(key);
  known.set(k, m);
  return m;
}

function describeMachine(key: AbiKey): MachineInfo | undefined {
  const is64 = key.elfClass === ELFCLASS64;
  const big = key.data === ELFDATA2MSB;
  switch (key.machine) {
    case EM_X86_64:
      if (!is64) {
        return { name: 'x32', ociArch: 'amd64', triplet: 'x86_64-linux-gnux32', glibcLoader: '/libx32/ld-linux-x32.so.2', muslArch: 'x32', cacheFlags: FLAG_ELF_LIBC6 | 0x0800, platform: 'x86_64' };
      }
      return { name: 'x86_64', ociArch: 'amd64', triplet: 'x86_64-linux-gnu', glibcLoader: '/lib64/ld-linux-x86-64.so.2', muslArch: 'x86_64', cacheFlags: FLAG_ELF_LIBC6 | 0x0300, platform: 'x86_64' };
    case EM_386:
      return { name: 'i386', ociArch: '386', triplet: 'i386-linux-gnu', glibcLoader: '/lib/ld-linux.so.2', muslArch: 'i386', cacheFlags: FLAG_ELF_LIBC6, platform: 'i686' };
    case EM_AARCH64:
      return { name: 'aarch64', ociArch: 'arm64', ociVariant: 'v8', triplet: 'aarch64-linux-gnu', glibcLoader: '/lib/ld-linux-aarch64.so.1', muslArch: 'aarch64', cacheFlags: FLAG_ELF_LIBC6 | 0x0a00, platform: 'aarch64' };
    case EM_ARM:
      // The float ABI is in e_flags; Debian armhf is ARMv7, armel ARMv5.
      if (key.flags & EF_ARM_ABI_FLOAT_HARD) {
        return { name: 'armhf', ociArch: 'arm', ociVariant: 'v7', triplet: 'arm-linux-gnueabihf', glibcLoader: '/lib/ld-linux-armhf.so.3', muslArch: 'armhf', cacheFlags: FLAG_ELF_LIBC6 | 0x0900, platform: 'v7l' };
      }
      return { name: 'armel', ociArch: 'arm', ociVariant: 'v5', triplet: 'arm-linux-gnueabi', glibcLoader: '/lib/ld-linux.so.3', muslArch: 'arm', cacheFlags: FLAG_ELF_LIBC6 | 0x0b00, platform: 'v5l' };
    case EM_RISCV: {
      // lp64d (double-float) is what distributions ship; soft-float gets its own loader.
      const double = (key.flags & EF_RISCV_FLOAT_ABI) === 0x4;
      if (!is64) return { name: 'riscv32', ociArch: 'riscv32', triplet: 'riscv32-linux-gnu', glibcLoader: '/lib/ld-linux-riscv32-ilp32d.so.1', muslArch: 'riscv32', cacheFlags: FLAG_ELF_LIBC6 | 0x1000, platform: 'riscv32' };
      return { name: 'riscv64', ociArch: 'riscv64', triplet: 'riscv64-linux-gnu', glibcLoader: double ? '/lib/ld-linux-riscv64-lp64d.so.1' : '/lib/ld-linux-riscv64-lp64.so.1', muslArch: 'riscv64', cacheFlags: FLAG_ELF_LIBC6 | (double ? 0x1000 : 0x0f00), platform: 'riscv64' };
    }
    case EM_PPC64:
      if (big) return { name: 'ppc64', ociArch: 'ppc64', triplet: 'powerpc64-linux-gnu', glibcLoader: '/lib64/ld64.so.1', muslArch: 'powerpc64', cacheFlags: FLAG_ELF_LIBC6 | 0x0500, platform: 'power8' };
      return { name: 'ppc64le', ociArch: 'ppc64le', triplet: 'powerpc64le-linux-gnu', glibcLoader: '/lib64/ld64.so.2', muslArch: 'powerpc64le', cacheFlags: FLAG_ELF_LIBC6 | 0x0500, platform: 'power8' };
    case EM_PPC:
      return { name: 'powerpc', ociArch: 'ppc', triplet: 'powerpc-linux-gnu', glibcLoader: '/lib/ld.so.1', muslArch: 'powerpc', cacheFlags: FLAG_ELF_LIBC6, platform: 'powerpc' };
    case EM_S390:
      if (is64) return { name: 's390x', ociArch: 's390x', triplet: 's390x-linux-gnu', glibcLoader: '/lib/ld64.so.1', muslArch: 's390x', cacheFlags: FLAG_ELF_LIBC6 | 0x0400, platform: 'z900' };
      return { name: 's390', ociArch: 's390', triplet: 's390-linux-gnu', glibcLoader: '/lib/ld.so.1', muslArch: 's390', cacheFlags: FLAG_ELF_LIBC6, platform: 's390' };
    case EM_MIPS: {
      const el = !big;
      if (is64) {
        return { name: el ? 'mips64el' : 'mips64', ociArch: el ? 'mips64le' : 'mips64', triplet: el ? 'mips64el-linux-gnuabi64' : 'mips64-linux-gnuabi64', glibcLoader: '/lib64/ld.so.1', muslArch: el ? 'mips64el' : 'mips64', cacheFlags: FLAG_ELF_LIBC6 | 0x0700, platform: 'mips64' };
      }
      if (key.flags & EF_MIPS_ABI2) {
        return { name: el ? 'mipsn32el' : 'mipsn32', ociArch: el ? 'mipsle' : 'mips', triplet: el ? 'mips64el-linux-gnuabin32' : 'mips64-linux-gnuabin32', glibcLoader: '/lib32/ld.so.1', muslArch: el ? 'mipsn32el' : 'mipsn32', cacheFlags: FLAG_ELF_LIBC6 | 0x0600, platform: 'mips' };
      }
      return { name: el ? 'mipsel' : 'mips', ociArch: el ? 'mipsle' : 'mips', triplet: el ? 'mipsel-linux-gnu' : 'mips-linux-gnu', glibcLoader: '/lib/ld.so.1', muslArch: el ? 'mipsel' : 'mips', cacheFlags: FLAG_ELF_LIBC6, platform: 'mips' };
    }
    case EM_LOONGARCH:
      return { name: 'loongarch64', ociArch: 'loong64', triplet: 'loongarch64-linux-gnu', glibcLoader: '/lib64/ld-linux-loongarch-lp64d.so.1', muslArch: 'loongarch64', cacheFlags: FLAG_ELF_LIBC6 | 0x1200, platform: 'loongarch' };
    default:
      return undefined;
  }
}

/**
 * Whether a library may be loaded into a process of `want`: glibc's open_verify skips candidates
 * of another class, byte order or machine (elf_machine_matches_host), and for ARM another float ABI.
 */
export function abiCompatible(want: AbiKey, got: AbiKey): boolean {
  if (want.machine !== got.machine || want.elfClass !== got.elfClass || want.data !== got.data) return false;
  const a = machineInfo(want);
  const b = machineInfo(got);
  return !a || !b || a.name === b.name;
}
