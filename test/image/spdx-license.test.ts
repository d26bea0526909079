import { expect } from 'chai';
import { MAX_EXPRESSION, spdxExpression } from '../../src/image/spdx-license.js';

describe('spdx-license: which stated licenses are SPDX expressions', () => {
  it('listed ids, in any case, are spelt as the SPDX list spells them; "+" is kept', () => {
    expect(spdxExpression('bsd-3-clause')).to.equal('BSD-3-Clause');
    expect(spdxExpression('curl')).to.equal('curl');
    expect(spdxExpression('GPL-2.0+')).to.equal('GPL-2.0+');
  });

  it('AND, OR, WITH and parentheses make an expression when every id is listed', () => {
    expect(spdxExpression('MIT AND (BSD-2-Clause OR Apache-2.0)')).to.equal('MIT AND (BSD-2-Clause OR Apache-2.0)');
    expect(spdxExpression('GPL-2.0-or-later WITH Classpath-exception-2.0')).to.equal('GPL-2.0-or-later WITH Classpath-exception-2.0');
  });

  it('Debian\'s own names, lower-case operators, unbalanced parentheses and overlong text are not', () => {
    for (const t of ['GPL-2+', 'LGPL-3+ or GPL-2+', 'MIT or ISC', '(MIT', 'MIT)', 'MIT AND', 'AND', '', 'public-domain', 'MIT WITH (ISC)', `MIT${' AND MIT'.repeat(MAX_EXPRESSION)}`]) {
      expect(spdxExpression(t), t.slice(0, 40)).to.equal(undefined);
    }
  });

  it('deep parentheses are counted, not recursed into', () => {
    const deep = `${'('.repeat(400)}MIT${')'.repeat(400)}`;
    expect(spdxExpression(deep)).to.equal(deep);
  });
});
