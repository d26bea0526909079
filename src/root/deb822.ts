// deb822 paragraphs (dpkg's status and control files, DEP-5 copyright files): "Name: value" fields,
// continuation lines that start with a space or tab, paragraphs apart by blank lines (deb822(5)).
// Each field keeps its lines as they were, so a paragraph can be written back as dpkg wrote it.

/** Lines longer than this make their paragraph malformed (dpkg's own lines are far shorter). */
export const MAX_DEB822_LINE = 64 * 1024;

export interface Deb822Field {
  /** The name as written ("Package"); compare with `fieldOf`, which ignores case as deb822 does. */
  name: string;
  /** The first line's value, trimmed (a multi-line field's first line: a license's short name). */
  value: string;
  /** Every line of the field, the "Name:" line first, without their line ends. */
  lines: string[];
}

export interface Deb822Paragraph {
  fields: Deb822Field[];
  /** Line number (from 1) of its first line, for messages. */
  line: number;
}

export interface Deb822Result {
  paragraphs: Deb822Paragraph[];
  /** A paragraph that could not be read: left out, said with its line number. */
  malformed: string[];
}

/**
 * Splits `text` into paragraphs. A line that is neither a field nor a continuation, or longer than
 * `maxLine` (MAX_DEB822_LINE unless said), makes its paragraph malformed: it is left out and said,
 * the rest is kept. At most `maxParagraphs` are read; past that, `onTooMany` decides (it throws).
 */
export function parseDeb822(text: string, maxParagraphs: number, onTooMany: () => never, maxLine = MAX_DEB822_LINE): Deb822Result {
  const paragraphs: Deb822Paragraph[] = [];
  const malformed: string[] = [];
  let cur: Deb822Paragraph | undefined;
  let bad: string | undefined;
  const end = () => {
    if (cur && !bad) {
      if (paragraphs.length >= maxParagraphs) onTooMany();
      paragraphs.push(cur);
    } else if (cur && bad) malformed.push(`line ${cur.line}: ${bad}`);
    cur = undefined;
    bad = undefined;
  };
  let lineNo = 0;
  for (let at = 0; at <= text.length;) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const line = text.charCodeAt(nl - 1) === 13 ? text.slice(at, nl - 1) : text.slice(at, nl);
    at = nl + 1;
    lineNo++;
    if (line.trim() === '') {
      end();
      continue;
    }
    if (line.startsWith('#')) continue; // comments (allowed in control files, never in status)
    cur ??= { fields: [], line: lineNo };
    if (bad) continue;
    if (line.length > maxLine) {
      bad = `a line longer than ${maxLine} characters`;
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      const last = cur.fields[cur.fields.length - 1];
      if (!last) bad = 'a continuation line before any field';
      else last.lines.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      bad = `not a "Name: value" line: ${JSON.stringify(line.slice(0, 80))}`;
      continue;
    }
    cur.fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim(), lines: [line] });
  }
  end();
  return { paragraphs, malformed };
}

/** The field named `name` (any case), or undefined. */
export function fieldOf(p: Deb822Paragraph, name: string): Deb822Field | undefined {
  const want = name.toLowerCase();
  return p.fields.find((f) => f.name.toLowerCase() === want);
}

/** The first-line value of the field named `name`, or "" when it is absent. */
export function valueOf(p: Deb822Paragraph, name: string): string {
  return fieldOf(p, name)?.value ?? '';
}

/** The paragraph as text, without the fields named in `drop` (any case), ending with one newline. */
export function formatDeb822(p: Deb822Paragraph, drop: string[] = []): string {
  const skip = new Set(drop.map((d) => d.toLowerCase()));
  return p.fields.filter((f) => !skip.has(f.name.toLowerCase())).flatMap((f) => f.lines).join('\n') + '\n';
}
