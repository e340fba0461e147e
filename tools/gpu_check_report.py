"""Writes OUT_DIR/report.md and OUT_DIR/report.json from the parts tools/gpu_check.sh left in
OUT_DIR/parts/<part>/ (command, rc, limit, milliseconds, log, and figures.json or junit.xml
where the part writes them). A part without an ``rc`` file did not run.

    python tools/gpu_check_report.py OUT_DIR [--dry-run]
"""
import argparse
import json
import os.path as osp
import re
import xml.etree.ElementTree as ET

PARTS = {
    'cuda_tests': 'pytest -m cuda: CUDA against the CPU on the same inputs',
    'hssn_fp32': 'HSSN DeepLabV3+ iteration time, FTM + TT vs CE, fp32',
    'hssn_amp': 'HSSN DeepLabV3+ iteration time, FTM + TT vs CE, AMP',
    'dnc': 'DNC clustering step vs the similarity floor; DNC head + hook vs linear head',
    'demo': 'toy demo trained and tested on the device, mIoU per level',
    'hiera_dnc': 'Cityscapes models: training step and inference, peak memory and time',
}
# tools/demo.sh on the CPU (README, "Quick start"): the figures the GPU run is set beside
CPU_DEMO_MIOU = {'texture': 88.11, 'colour': 92.27}
TIMEOUT_CODES = (124, 137)
GIB = 2**30


def read(path, default=None):
    if not osp.isfile(path):
        return default
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def junit_counts(path):
    if not osp.isfile(path):
        return None
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else list(root.iter('testsuite'))
    counts = {key: sum(int(s.get(key, 0)) for s in suites)
              for key in ('tests', 'failures', 'errors', 'skipped')}
    counts['failed_tests'] = [f"{case.get('classname')}::{case.get('name')}"
                              for case in root.iter('testcase')
                              if case.find('failure') is not None
                              or case.find('error') is not None]
    return counts


def demo_miou(log: str):
    """``{level: mIoU}`` from the 'mIoU per level (finest first): a=1.0, b=2.0' line."""
    found = re.findall(r'mIoU per level \(finest first\): (.*)', log or '')
    if not found:
        return None
    return {name.strip(): float(value)
            for name, value in (item.split('=') for item in found[-1].split(','))}


def collect(out_dir: str) -> dict:
    parts = {}
    for name, what in PARTS.items():
        part_dir = osp.join(out_dir, 'parts', name)
        rc = read(osp.join(part_dir, 'rc'))
        entry = dict(what=what, command=(read(osp.join(part_dir, 'command')) or '').strip())
        if rc is None:
            entry['status'] = 'not run'
            parts[name] = entry
            continue
        rc = int(rc)
        entry['exit_code'] = rc
        entry['status'] = 'ok' if rc == 0 else 'timeout' if rc in TIMEOUT_CODES else 'failed'
        entry['seconds'] = int(read(osp.join(part_dir, 'milliseconds'), '0')) / 1000
        entry['limit_s'] = int(read(osp.join(part_dir, 'limit'), '0'))
        log = read(osp.join(part_dir, 'log'), '')
        entry['log_tail'] = log.splitlines()[-15:]
        figures = read(osp.join(part_dir, 'figures.json'))
        if figures:
            entry['figures'] = json.loads(figures)
        if name == 'cuda_tests':
            entry['tests'] = junit_counts(osp.join(part_dir, 'junit.xml'))
        if name == 'demo':
            entry['miou'] = demo_miou(log)
            entry['cpu_miou'] = CPU_DEMO_MIOU
        parts[name] = entry
    return parts


def gib(value):
    return '-' if value is None else f'{value / GIB:.2f} GiB'


def figure_lines(name: str, entry: dict):
    fig, lines = entry.get('figures'), []
    if name.startswith('hssn') and fig:
        it = fig['iter_s']
        peaks = fig.get('peak_gpu_bytes') or {}
        lines.append(f"R{fig['depth']} {fig['size'][0]}x{fig['size'][1]} batch 2, "
                     f"{fig['precision']}: CE {it['ce']:.3f} s/iter, HSSN {it['hssn']:.3f} "
                     f"s/iter (x{fig['ratio']:.3f}); peak memory CE {gib(peaks.get('ce'))}, "
                     f"HSSN {gib(peaks.get('hssn'))}; tree-min alone "
                     f"{1000 * fig['losses_alone_s']['hssn']:.1f} ms vs CE "
                     f"{1000 * fig['losses_alone_s']['ce']:.1f} ms")
    if name == 'dnc' and fig:
        if 'clustering_s' in fig:
            c = fig['clustering_s']
            peaks = c.get('peak_gpu_bytes') or {}
            lines.append(f"clustering C={fig['classes']} K={fig['k']} D={fig['dim']} "
                         f"{fig['classes'] * fig['per_class']} entries: floor "
                         f"{1000 * c['floor']:.1f} ms, steady step {1000 * c['step']:.1f} ms "
                         f"(x{c['step'] / c['floor']:.1f}), stateless {1000 * c['full']:.1f} "
                         f"ms; same assignments as the loop: {c['same']}; peak "
                         f"{gib(peaks.get('steady'))}")
        if 'training_s' in fig:
            t = fig['training_s']
            peaks = t.get('peak_gpu_bytes') or {}
            lines.append(f"ResNet-50 iteration: linear {t['linear']:.3f} s, DNC + hook "
                         f"{t['dnc']:.3f} s ({100 * (t['dnc'] / t['linear'] - 1):+.1f} %), hook "
                         f"{1000 * t['hook']:.1f} ms; peak linear {gib(peaks.get('linear'))}, "
                         f"DNC {gib(peaks.get('dnc'))}")
    if name == 'hiera_dnc' and fig:
        for r in fig['results']:
            lines.append(f"{r['case']} {r['mode']}: peak {gib(r['peak_bytes'])}, "
                         f"{r['seconds']:.3f} s")
        for r in fig['ratios']:
            target = f" (target <= {r['peak_target']:.2f})" if r['peak_target'] else ''
            lines.append(f"{r['what']}: peak x{r['peak']:.3f}{target}, step time "
                         f"x{r['time']:.3f}")
    if name == 'cuda_tests' and entry.get('tests'):
        t = entry['tests']
        lines.append(f"{t['tests']} tests: {t['failures']} failed, {t['errors']} errors, "
                     f"{t['skipped']} skipped")
        lines += [f'FAILED {case}' for case in t['failed_tests']]
    if name == 'demo' and entry.get('miou'):
        lines.append('mIoU per level: ' + ', '.join(
            f'{level} {value:.2f} (CPU {entry["cpu_miou"].get(level, "-")})'
            for level, value in entry['miou'].items()))
    return lines


def markdown(report: dict) -> str:
    env = report['environment']
    lines = ['# GPU check' + (' (dry run on the CPU: no GPU figure)' if report['dry_run']
                              else ''), '',
             f"torch {env.get('torch')} (CUDA {env.get('cuda')}), Python {env.get('python')}, "
             f"GPU {env.get('gpu', 'none')}; mmcv {env.get('mmcv')}, mmengine "
             f"{env.get('mmengine')}, mmseg {env.get('mmseg')}, mmpretrain "
             f"{env.get('mmpretrain')}", '',
             '| part | status | seconds (limit) | what |', '| --- | --- | --- | --- |']
    for name, entry in report['parts'].items():
        seconds = f"{entry['seconds']:.0f} ({entry['limit_s']})" if 'seconds' in entry else '-'
        lines.append(f"| {name} | {entry['status']} | {seconds} | {entry['what']} |")
    lines.append('')
    for name, entry in report['parts'].items():
        lines.append(f'## {name}: {entry["status"]}')
        if entry.get('command'):
            lines.append(f"`{entry['command']}`")
        lines.append('')
        lines += [f'- {line}' for line in figure_lines(name, entry)]
        if entry['status'] != 'ok' and entry.get('log_tail'):
            lines += ['', '```'] + entry['log_tail'] + ['```']
        lines.append('')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('out_dir')
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args()
    environment = json.loads(read(osp.join(args.out_dir, 'environment.json'), '{}') or '{}')
    report = dict(dry_run=args.dry_run, environment=environment, parts=collect(args.out_dir))
    report['all_ok'] = all(entry['status'] == 'ok' for entry in report['parts'].values())
    with open(osp.join(args.out_dir, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    with open(osp.join(args.out_dir, 'report.md'), 'w') as f:
        f.write(markdown(report) + '\n')
    print(f"{osp.join(args.out_dir, 'report.md')}: " + ', '.join(
        f"{name} {entry['status']}" for name, entry in report['parts'].items()))
    raise SystemExit(0 if report['all_ok'] else 1)


if __name__ == '__main__':
    main()
