import { expect } from 'chai';
import { parseShebang } from '../../src/elf/script.js';

describe('elf/script', () => {
  it('reads the interpreter and its single argument as the kernel does', () => {
    expect(parseShebang(Buffer.from('#!/bin/sh -e\necho hi\n'))).to.deep.equal({ interpreter: '/bin/sh', argument: '-e', crlf: false });
    expect(parseShebang(Buffer.from('#! /usr/bin/env python3 -u -x\n'))).to.deep.equal({ interpreter: '/usr/bin/env', argument: 'python3 -u -x', crlf: false });
  });

  it('reports CRLF line endings', () => {
    expect(parseShebang(Buffer.from('#!/bin/sh\r\necho hi\r\n'))).to.deep.equal({ interpreter: '/bin/sh', argument: undefined, crlf: true });
  });

  it('a "#!" line with no interpreter is not a script', () => {
    expect(parseShebang(Buffer.from('#!   \n'))).to.equal(undefined);
    expect(parseShebang(Buffer.from('echo hi\n'))).to.equal(undefined);
  });

  it('a NUL ends the line as it does for the kernel (C strings); a CR before an argument stays in the argument', () => {
    expect(parseShebang(Buffer.from('#!/bin/sh\0 -e\n'))).to.deep.equal({ interpreter: '/bin/sh', argument: undefined, crlf: false });
    expect(parseShebang(Buffer.from('#!/bin/sh -e\0x\n'))).to.deep.equal({ interpreter: '/bin/sh', argument: '-e', crlf: false });
    expect(parseShebang(Buffer.from('#!/bin/sh -\re\r\n'))).to.deep.equal({ interpreter: '/bin/sh', argument: '-\re', crlf: true });
  });

  it('the interpreter is UTF-8, a byte that is not UTF-8 kept as U+DC00 plus the byte', () => {
    const head = Buffer.concat([Buffer.from('#!/opt/é/'), Buffer.from([0xff]), Buffer.from('/sh\n')]);
    expect(parseShebang(head)!.interpreter).to.equal('/opt/é/\udcff/sh');
  });
});
