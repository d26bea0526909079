#!/usr/bin/env bash
# Lets the kernel run foreign binaries through qemu-user-static, also inside the engine's containers:
# binfmt_misc mounted, and qemu's handlers registered (qemu-user-static's own files, with the F
# flag: the interpreter is opened once at registration, so containers need no qemu of their own).
set -uo pipefail
if [ "$(id -u)" != 0 ]; then echo "enable-binfmt: not root: foreign-architecture tests will skip" >&2; exit 0; fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || { echo "enable-binfmt: cannot mount binfmt_misc here" >&2; exit 0; }
fi
if command -v update-binfmts >/dev/null; then
  for f in /usr/share/binfmts/qemu-*; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    [ -e "/proc/sys/fs/binfmt_misc/$name" ] || update-binfmts --import "$name" >/dev/null 2>&1 || true
    update-binfmts --enable "$name" >/dev/null 2>&1 || true
  done
fi
exit 0
