import { expect } from 'chai';
import { parseSyscall, StraceLog, unquote } from '../../src/closure/strace-log.js';

/** A log of the sandbox (pid 10) starting the program as pid 11, then the program's own lines. */
function logOf(lines: string[], program = '/usr/bin/app', workdir = '/'): StraceLog {
  const log = new StraceLog(program, workdir);
  for (const l of [
    '10 execve("/usr/bin/bwrap", ["bwrap"], 0x7ff /* 3 vars */) = 0',
    '10 openat(AT_FDCWD</>, "/etc/bwrap-setup", O_RDONLY) = 3</etc/bwrap-setup>',
    `11 execve("${program}", ["app"], 0x5 /* 3 vars */ <unfinished ...>`,
    '10 getdents64(5</proc/11/fd>, 0x55 /* 10 entries */, 32768) = 240',
    '11 <... execve resumed>)             = 0',
    ...lines,
  ]) log.line(l);
  return log;
}

describe('strace log', () => {
  it('counts only from the program\'s execve, and only the program\'s processes', () => {
    const log = logOf(['10 openat(AT_FDCWD</>, "/etc/late-sandbox", O_RDONLY) = 3</etc/late-sandbox>', '11 openat(AT_FDCWD</>, "/etc/app.conf", O_RDONLY|O_CLOEXEC) = 3</etc/app.conf>']);
    expect([...log.used.keys()]).to.deep.equal(['/usr/bin/app', '/etc/app.conf']);
    expect(log.used.get('/usr/bin/app')!.use).to.equal('exec');
  });

  it('joins a call split by another process\'s line, and a child forked later is the program\'s', () => {
    const log = logOf([
      '11 openat(AT_FDCWD</>, "/usr/lib/libx.so.1", O_RDONLY|O_CLOEXEC <unfinished ...>',
      '12 openat(AT_FDCWD</>, "/usr/share/child", O_RDONLY) = 4</usr/share/child>',
      '11 <... openat resumed>) = 3</usr/lib/libx.so.1.2>',
    ]);
    expect(log.used.has('/usr/lib/libx.so.1')).to.equal(true);
    expect(log.used.has('/usr/share/child')).to.equal(true);
  });

  it('leaves out what failed and what the program wrote', () => {
    const log = logOf([
      '11 openat(AT_FDCWD</>, "/etc/missing", O_RDONLY) = -1 ENOENT (No such file or directory)',
      '11 openat(AT_FDCWD</>, "/var/log/app.log", O_WRONLY|O_CREAT|O_APPEND, 0644) = 3</var/log/app.log>',
      '11 openat(AT_FDCWD</>, "/var/log/app.log", O_RDONLY) = 3</var/log/app.log>',
      '11 mkdir("/var/cache/app", 0755) = 0',
    ]);
    expect(log.used.has('/etc/missing')).to.equal(false);
    expect(log.written.has('/var/log/app.log')).to.equal(true);
    expect(log.written.has('/var/cache/app')).to.equal(true);
  });

  it('a write the read-only root refused is noted, and its directory counts as used', () => {
    const log = logOf([
      '11 mkdir("/var/lib/app/cache", 0700) = -1 EROFS (Read-only file system)',
      '11 openat(AT_FDCWD</>, "/var/log/app.log", O_WRONLY|O_CREAT|O_APPEND, 0644) = -1 EROFS (Read-only file system)',
      '11 mkdir("/var/missing/x", 0700) = -1 ENOENT (No such file or directory)',
    ]);
    expect([...log.readOnlyDenied]).to.deep.equal(['/var/lib/app/cache', '/var/log/app.log']);
    expect(log.used.has('/var/lib/app')).to.equal(true);
    expect(log.used.has('/var/log')).to.equal(true);
    expect(log.used.has('/var/missing')).to.equal(false);
  });

  it('makes relative paths absolute against the directory descriptor or the working directory', () => {
    const log = logOf([
      '11 openat(3</usr/lib/python3.11>, "json/__init__.py", O_RDONLY) = 4</usr/lib/python3.11/json/__init__.py>',
      '11 chdir("/srv") = 0',
      '11 access("data/x", R_OK) = 0',
      '11 newfstatat(AT_FDCWD</srv>, "y", {st_mode=S_IFREG|0644, st_size=1, ...}, 0) = 0',
    ], '/usr/bin/app', '/');
    expect(log.used.has('/usr/lib/python3.11/json/__init__.py')).to.equal(true);
    expect(log.used.get('/srv')!.use).to.equal('chdir');
    expect(log.used.has('/srv/data/x')).to.equal(true);
    expect(log.used.has('/srv/y')).to.equal(true);
  });

  it('tells a listed directory, an lstat and a stat of the descriptor itself apart', () => {
    const log = logOf([
      '11 openat(AT_FDCWD</>, "/usr/lib/plugins", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3</usr/lib/plugins>',
      '11 getdents64(3</usr/lib/plugins>, 0x55 /* 4 entries */, 32768) = 112',
      '11 newfstatat(3</usr/lib/plugins>, "", {st_mode=S_IFDIR|0755, ...}, AT_EMPTY_PATH) = 0',
      '11 newfstatat(AT_FDCWD</>, "/usr/lib/link", {st_mode=S_IFLNK|0777, ...}, AT_SYMLINK_NOFOLLOW) = 0',
      '11 readlink("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC", 4095) = 27',
    ]);
    expect(log.used.get('/usr/lib/plugins')!.use).to.equal('list');
    expect(log.used.get('/usr/lib/link')!.use).to.equal('lstat');
    expect(log.used.get('/etc/localtime')!.use).to.equal('lstat');
    expect(log.used.has('')).to.equal(false);
  });

  it('keeps the stronger use of a path looked at and then read', () => {
    const log = logOf([
      '11 newfstatat(AT_FDCWD</>, "/etc/x", {st_mode=S_IFREG|0644, ...}, 0) = 0',
      '11 openat(AT_FDCWD</>, "/etc/x", O_RDONLY) = 3</etc/x>',
      '11 access("/etc/x", R_OK) = 0',
    ]);
    expect(log.used.get('/etc/x')).to.deep.include({ use: 'read', syscall: 'openat' });
  });

  it('says why the program did not start when its execve failed', () => {
    const log = new StraceLog('/usr/bin/app', '/');
    log.line('11 execve("/usr/bin/app", ["app"], 0x5 /* 3 vars */) = -1 ENOEXEC (Exec format error)');
    expect(log.started).to.equal(false);
    expect(log.execError).to.equal('ENOEXEC (Exec format error)');
  });

  it('reads strace\'s escapes, and refuses a truncated string as a path', () => {
    expect(unquote('"caf\\303\\251 \\"q\\" \\x41"')).to.equal('café "q" A');
    expect(unquote('"/usr/lib/x"...')).to.equal(undefined);
    const c = parseSyscall(1, 'openat(AT_FDCWD</a, b)>, "x, (y)", O_RDONLY) = 3</a, b)/x, (y)>');
    expect(c).to.deep.equal({ pid: 1, name: 'openat', args: ['AT_FDCWD</a, b)>', '"x, (y)"', 'O_RDONLY'], ret: '3</a, b)/x, (y)>' });
    expect(parseSyscall(1, '+++ exited with 0 +++')).to.equal(undefined);
  });
});
