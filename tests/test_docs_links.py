"""The README and the docs pages: every relative link resolves (file and heading), every
config and script they name exists, and the README stays a front door."""
import glob
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = sorted(
    [osp.join(REPO, 'README.md'), osp.join(REPO, 'experiments', 'README.md')] +
    glob.glob(osp.join(REPO, 'docs', '*.md')) +
    glob.glob(osp.join(REPO, 'configs', '*', 'README.md')) +
    glob.glob(osp.join(REPO, 'benchmarks', '*.md')))
LINK = re.compile(r'\]\(([^)\s]+)\)')
PATH = re.compile(r'(?<![\w/.-])((?:configs|tools|experiments|benchmarks|docs)/[\w./-]+'
                  r'\.(?:py|sh|md))')


def anchors(path: str) -> set:
    """GitHub's anchors of a markdown file's headings."""
    with open(path) as f:
        text = re.sub(r'```.*?```', '', f.read(), flags=re.S)
    slugs = set()
    for title in re.findall(r'^#+\s+(.*)$', text, flags=re.M):
        slug = re.sub(r'[^\w\- ]', '', title.strip().lower()).replace(' ', '-')
        slugs.add(slug)
    return slugs


def relative_links(page: str):
    with open(page) as f:
        text = f.read()
    for target in LINK.findall(text):
        if not re.match(r'^[a-z]+://|^mailto:', target):
            yield target


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, REPO))
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition('#')
        full = osp.normpath(osp.join(osp.dirname(page), path)) if path else page
        if not osp.exists(full):
            broken.append(f'{target}: no such file')
        elif anchor and full.endswith('.md') and anchor not in anchors(full):
            broken.append(f'{target}: no heading #{anchor} in {osp.relpath(full, REPO)}')
    assert not broken, broken


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, REPO))
def test_every_named_config_and_script_exists(page):
    with open(page) as f:
        text = f.read()
    named = {p for p in PATH.findall(text)
             if not osp.basename(p).split('.')[0].isupper()}  # not a pattern like NAME.py
    missing = sorted(p for p in named if not osp.exists(osp.join(REPO, p)))
    assert not missing, missing


def test_readme_is_a_front_door_linking_every_docs_page():
    with open(osp.join(REPO, 'README.md')) as f:
        readme = f.read()
    assert len(readme.splitlines()) <= 300
    for page in glob.glob(osp.join(REPO, 'docs', '*.md')):
        assert f'docs/{osp.basename(page)}' in readme, page


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, REPO))
def test_no_figure_is_left_to_fill_in(page):
    with open(page) as f:
        assert not re.findall(r'\b[A-Z][A-Z0-9_]*_(?:TIME|TABLE|TOY|OUTPUT|DURATIONS)\b', f.read())
