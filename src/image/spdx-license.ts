// Whether a package's stated license is an SPDX license expression (SPDX 2.3 Annex D): ids of the
// SPDX license list (a trailing "+" allowed), joined by AND, OR and WITH, in parentheses. Debian's
// copyright files use their own short names ("GPL-2+", "BSD-3-clause", "LGPL-3+ or GPL-2+"), which
// are often not: those become LicenseRefs in the SBOM, with the name as their text.
import { SPDX_LICENSE_IDS } from './spdx-license-ids.js';

/** An expression longer than this is not parsed (it is kept as a LicenseRef). */
export const MAX_EXPRESSION = 1000;

/** Ids are matched without regard to case (Annex D), and written as the list spells them. */
const CANONICAL = new Map(SPDX_LICENSE_IDS.map((id) => [id.toLowerCase(), id]));

/**
 * The expression with every id spelt as the SPDX list spells it, when `text` is one; undefined
 * otherwise. Operators must be upper case (Annex D: they are case-sensitive). A loop with a depth
 * counter, not recursion: the text decides no stack depth. Exceptions are not told from licenses
 * (the list holds both): "MIT WITH GPL-2.0-only" passes, which no package states.
 */
export function spdxExpression(text: string): string | undefined {
  if (!text || text.length > MAX_EXPRESSION) return undefined;
  const tokens = text.replace(/[()]/g, ' $& ').trim().split(/\s+/);
  const out: string[] = [];
  let depth = 0;
  let wantOperand = true;
  let afterWith = false;
  for (const t of tokens) {
    if (wantOperand) {
      if (t === '(' && !afterWith) {
        depth++;
        out.push(t);
        continue;
      }
      const id = idOf(t, afterWith);
      if (!id) return undefined;
      out.push(id);
      wantOperand = false;
      afterWith = false;
    } else if (t === ')') {
      if (--depth < 0) return undefined;
      out.push(t);
    } else if (t === 'AND' || t === 'OR' || t === 'WITH') {
      out.push(t);
      wantOperand = true;
      afterWith = t === 'WITH';
    } else return undefined;
  }
  if (wantOperand || depth !== 0) return undefined;
  return out.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
}

/** A listed id as the list spells it, "+" kept (not after WITH: an exception has no "or later"). */
function idOf(token: string, exception: boolean): string | undefined {
  const plus = !exception && token.endsWith('+');
  const id = CANONICAL.get((plus ? token.slice(0, -1) : token).toLowerCase());
  return id && `${id}${plus ? '+' : ''}`;
}

/** Whether an expression joins several ids: it then takes parentheses when joined to others. */
export function isCompound(expression: string): boolean {
  return /\s(AND|OR|WITH)\s/.test(expression);
}
