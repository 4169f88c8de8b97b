#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that every normative statement the specification proposal adds
names the make check case that checks it, or says why none can.

  spec-trace.py SPEC-TREE BASE TABLE CASES

SPEC-TREE is the specification with the series applied (make spec),
BASE the commit the series applies to, TABLE spec-proposal/
traceability.md and CASES a file of make check case names, one a line.
A statement is a paragraph with an RFC 2119 keyword in a driver, device
or legacy normative section of the balloon chapter; it is named by its
section and its place among the statements of that section.  Prints
TAP; --draft prints table rows for the statements without one.
"""
import re
import subprocess
import sys

CHAPTER = 'device-types/balloon/description.tex'
PREFIX = 'Device Types / Memory Balloon Device / '
KEYWORD = re.compile(r'\b(MUST|SHOULD|MAY|REQUIRED|RECOMMENDED|OPTIONAL)\b')
NORMATIVE = re.compile(r'\\(driver|device)normative\{[^}]*\}\{[^}]*\}\{([^}]*)\}')
LEGACY = re.compile(r'\\(sub)*paragraph\{Legacy Interface: ([^}]*)\}')
HEADING = re.compile(r'\\(sub)*(section|paragraph)\b')


def plain(tex):
    """A statement as one line of text: macros dropped, spaces folded."""
    tex = re.sub(r'\\field\{([^}]*)\}', r'\1', tex)
    tex = re.sub(r'\\ref\{[^}]*\}', 'REF', tex)
    tex = re.sub(r'\\cdot', '*', tex)
    tex = re.sub(r'[${}\\]', '', tex)
    return ' '.join(tex.split())


def statements(text):
    """(section, n, statement) for each statement of the chapter."""
    found, section, para, count, skip = [], None, [], {}, False

    def close():
        words = plain(' '.join(para))
        if section and KEYWORD.search(words):
            count[section] = count.get(section, 0) + 1
            found.append((section, count[section], words))
        para.clear()

    for line in text.splitlines():
        if line.startswith('%'):
            continue
        if re.match(r'\\begin\{(note|lstlisting)\}', line):
            close()
            skip = True
            continue
        if re.match(r'\\end\{(note|lstlisting)\}', line):
            skip = False
            continue
        if skip:
            continue
        m, legacy = NORMATIVE.match(line), LEGACY.match(line)
        if m or legacy or HEADING.match(line):
            close()
            if m:
                section = m.group(1) + ': ' + m.group(2).replace(PREFIX, '')
            elif legacy:
                section = 'legacy: ' + legacy.group(2)
            else:
                section = None
            continue
        if not line.strip():
            close()
        else:
            para.append(line)
    close()
    return found


def table(path):
    """{(section, n): (text, cases, how)} from the markdown table."""
    rows = {}
    row = re.compile(r'^\|\s*(.+?)\s*¶(\d+)\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|$')
    for line in open(path, encoding='utf-8'):
        m = row.match(line.rstrip('\n'))
        if m:
            rows[(m.group(1), int(m.group(2)))] = m.group(3, 4, 5)
    return rows


def main():
    draft = sys.argv[1] == '--draft'
    tree, base, path, cases = sys.argv[2:] if draft else sys.argv[1:]
    git = ['git', '-C', tree, 'show']
    new = subprocess.run(git + ['HEAD:' + CHAPTER], check=True,
                         capture_output=True, text=True).stdout
    old = subprocess.run(git + [base + ':' + CHAPTER], check=True,
                         capture_output=True, text=True).stdout
    known = {s for _, _, s in statements(old)}
    added = [s for s in statements(new) if s[2] not in known]
    rows = table(path)
    names = set(open(cases).read().split())

    if draft:
        for section, n, words in added:
            if (section, n) not in rows:
                print('| %s ¶%d | %s | | |' %
                      (section, n, ' '.join(words.split()[:10])))
        return 0

    print('1..%d' % (len(added) + 1))
    bad = 0
    for i, (section, n, words) in enumerate(added, 1):
        name = '%s ¶%d' % (section, n)
        why = None
        if (section, n) not in rows:
            why = 'no entry'
        else:
            text, checked, how = rows[(section, n)]
            listed = re.findall(r'`([^`]+)`', checked)
            if not words.startswith(text.rstrip('…. ')):
                why = 'entry quotes "%s", the statement is "%s"' % (text, words)
            elif checked.strip() == 'none':
                if not how:
                    why = 'no case and no reason'
            elif not listed:
                why = 'names neither a case nor "none"'
            else:
                missing = [c for c in listed if c not in names]
                if missing:
                    why = 'no such case: ' + ', '.join(missing)
        if why:
            bad += 1
            print('not ok %d %s: %s' % (i, name, why))
        else:
            print('ok %d %s' % (i, name))
    stale = set(rows) - {(s, n) for s, n, _ in added}
    print('%sok %d no entry names a statement the series does not add%s' %
          ('not ' if stale else '', len(added) + 1,
           ': ' + '; '.join('%s ¶%d' % k for k in sorted(stale)) if stale else ''))
    return 1 if bad or stale else 0


if __name__ == '__main__':
    sys.exit(main())
