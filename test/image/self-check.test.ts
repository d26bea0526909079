// The self-check loads the entrypoint again inside the image's own files: a tree that lacks a
// library, the interpreter, or a script's interpreter is reported, one line per problem.
import { expect } from 'chai';
import { ImageTreeBuilder } from '../../src/image/image-tree.js';
import { checkImage } from '../../src/image/self-check.js';
import { HostRoot } from '../../src/root/host-root.js';
import { fixture } from '../support/helpers.js';

describe('self-check: the image, seen from inside', () => {
  const host = new HostRoot('/');

  it('passes a tree holding the program, its libraries and its interpreter', function () {
    const b = new ImageTreeBuilder(host);
    b.addPath(host, fixture(this, 'glibc/hello'), '/hello', 'program');
    b.addRootPath('/lib/x86_64-linux-gnu/libc.so.6', 'library');
    b.addRootPath('/lib64/ld-linux-x86-64.so.2', 'interpreter');
    expect(checkImage(b.tree, ['/hello'])).to.deep.equal([]);
  });

  it('names the library that would be missing', function () {
    const b = new ImageTreeBuilder(host);
    b.addPath(host, fixture(this, 'glibc/hello'), '/hello', 'program');
    b.addRootPath('/lib64/ld-linux-x86-64.so.2', 'interpreter');
    expect(checkImage(b.tree, ['/hello'])).to.deep.equal(['/hello: libc.so.6 would not be found']);
  });

  it('names a missing interpreter, and a script whose interpreter is absent', function () {
    const b = new ImageTreeBuilder(host);
    b.addPath(host, fixture(this, 'glibc/hello'), '/hello', 'program');
    b.addContent('/run.sh', Buffer.from('#!/bin/sh\necho hi\n'), 0o755, 'script');
    const problems = checkImage(b.tree, ['/hello', '/run.sh']);
    expect(problems.join('\n')).to.match(/\/lib64\/ld-linux-x86-64\.so\.2 would not be found/).and.match(/\/run\.sh: its interpreter \/bin\/sh is not in the image/);
  });
});
