#!/usr/bin/env python3
"""Writes expected.json for the ELF samples here from binutils readelf's view of them.

Run from this directory: python3 make-expected.py. Reads files only; downloads nothing.
"""
import json, os, re, subprocess

def readelf(args, path):
    return subprocess.run(['readelf', *args, '-W', path], capture_output=True, text=True, check=True).stdout

def facts(path, arch):
    h = readelf(['-h'], path)
    field = lambda name: re.search(rf'^\s*{name}:\s*(.*)$', h, re.M).group(1).strip()
    d = readelf(['-d'], path)
    tag = lambda t: [m.group(1) for m in re.finditer(rf'\({t}\)\s+\S+ \S+: \[(.*)\]$', d, re.M)]
    l = readelf(['-l'], path)
    interp = re.search(r'\[Requesting program interpreter: (.*)\]', l)
    f1 = re.search(r'\(FLAGS_1\)\s+Flags:(.*)$', d, re.M)
    v = readelf(['-V'], path)
    needs, defs = [], []
    r_part = v.split("Version needs section")[1] if "Version needs section" in v else ''
    r_part = r_part.split("Version definition section")[0]
    for line in r_part.splitlines():
        m = re.search(r'File: (\S+)\s+Cnt:', line)
        if m: needs.append({'file': m.group(1), 'versions': []})
        m = re.search(r'Name: (\S+)\s+Flags:', line)
        if m and needs: needs[-1]['versions'].append(m.group(1))
    if "Version definition section" in v:
        d_part = v.split("Version definition section")[1].split("Version needs section")[0]
        for line in d_part.splitlines():
            m = re.search(r'Rev: \d+\s+Flags: \S+\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)', line)
            if m: defs.append(m.group(1))
    return {
        'file': f'{arch}/{os.path.basename(path)}',
        'debianArch': arch,
        'class': 64 if field('Class') == 'ELF64' else 32,
        'endian': 'little' if 'little' in field('Data') else 'big',
        'machineName': field('Machine'),
        'machine': None,
        'type': field('Type').split()[0],
        'flags': int(field('Flags').split(',')[0], 16),
        'interp': interp.group(1) if interp else None,
        'needed': tag('NEEDED'),
        'soname': (tag('SONAME') or [None])[0],
        'rpath': (tag('RPATH') or [None])[0],
        'runpath': (tag('RUNPATH') or [None])[0],
        'flags1': f1.group(1).split() if f1 else None,
        'versionNeeds': needs,
        'versionDefs': defs,
    }

# e_machine numbers for readelf's machine names (readelf -h prints names, not numbers).
MACHINES = {'AArch64': 183, 'ARM': 40, 'Intel 80386': 3, 'IBM S/390': 22, 'PowerPC64': 21, 'MIPS R3000': 8, 'RISC-V': 243}
out = []
for arch in sorted(d for d in os.listdir('.') if os.path.isdir(d)):
    for name in sorted(os.listdir(arch)):
        f = facts(os.path.join(arch, name), arch)
        f['machine'] = MACHINES[f['machineName']]
        out.append(f)
with open('expected.json', 'w') as fh:
    json.dump(out, fh, indent=2)
    fh.write('\n')
