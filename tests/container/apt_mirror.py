#!/usr/bin/env python3
"""Prints the Debian mirror that this machine's apt uses for Debian's main archive.

Reads deb822 files (/etc/apt/sources.list.d/*.sources) and one-line lists (sources.list and
*.list), and prints the first enabled `deb` URI whose suites include SUITE (default bookworm),
so that debootstrap fetches from where apt already does. Exits 1 when there is none.
"""

import glob
import sys


def deb822_stanzas(text):
    stanza = {}
    for line in text.splitlines() + ['']:
        if not line.strip():
            if stanza:
                yield stanza
            stanza = {}
        elif line.startswith('#'):
            continue
        elif line[0] in ' \t':
            continue  # a continuation line (e.g. an inline key): nothing we need
        elif ':' in line:
            key, value = line.split(':', 1)
            stanza[key.strip().lower()] = value.split()


def one_line_entries(text):
    for line in text.splitlines():
        words = line.split('#', 1)[0].split()
        if len(words) >= 3 and words[0] == 'deb':
            if words[1].startswith('['):  # options: [arch=amd64 signed-by=...]
                while words and not words[0].endswith(']'):
                    words.pop(0)
                words.pop(0)
                words.insert(0, 'deb')
            if len(words) >= 3:
                yield {'types': ['deb'], 'uris': [words[1]], 'suites': [words[2]]}


def mirror(suite):
    entries = []
    for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
        entries += deb822_stanzas(open(path, encoding='utf-8').read())
    for path in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
        try:
            entries += one_line_entries(open(path, encoding='utf-8').read())
        except FileNotFoundError:
            pass
    for e in entries:
        if e.get('enabled', ['yes'])[0] == 'no' or 'deb' not in e.get('types', []):
            continue
        if suite in e.get('suites', []) and e.get('uris'):
            return e['uris'][0]
    return None


if __name__ == '__main__':
    found = mirror(sys.argv[1] if len(sys.argv) > 1 else 'bookworm')
    if not found:
        sys.exit('no enabled deb source for the suite in /etc/apt')
    print(found)
