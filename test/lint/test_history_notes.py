# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The repository describes the product as it is: history is told in CHANGELOG.md only.

Fails on development-history notes in README.md, docs/, benchmarks/ (scripts, README and
result files), config/, launch/, scripts/ and the package's sources: numbered development
sessions or rounds, ``stage <n>`` (or "sixth stage") as a model version, and file names that
carry such a version. Result files that no benchmark writes are checked by test_results.py.
"""

from pathlib import Path
import re
import subprocess

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKED = ('README.md', 'docs', 'benchmarks', 'config', 'launch', 'scripts', 'infonet_ros',
           'examples', 'data', 'msg')
TEXT_SUFFIXES = ('.md', '.py', '.sh', '.yaml', '.yml', '.json', '.txt', '.xml', '.msg', '.cfg')
ORDINALS = 'first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth'
HISTORY = re.compile(
    r'(?<![a-z])session[ _-]?\d+'             # "session 17", "_session14"
    rf'|\b(?:{ORDINALS})[ -](?:training[ -])?stage\b'
    r'|(?<![a-z])stage[ _-]?\d+[a-z]?(?![a-z])'  # "stage 4", "_stage6a"
    r'|\b(?:development|dev) round[ _-]?\d+'
    r'|\bround[ _-]\d+ of (?:development|training)',
    re.IGNORECASE)


def tracked_files():
    """Text files tracked by git under the checked roots (untracked scratch is not checked)."""
    out = subprocess.run(['git', 'ls-files', '--', *CHECKED], cwd=REPO, capture_output=True,
                         text=True)
    if out.returncode != 0:  # not a git checkout (an sdist): every file on disk
        files = [p.relative_to(REPO).as_posix() for root in CHECKED
                 for p in ((REPO / root).rglob('*') if (REPO / root).is_dir()
                           else [REPO / root]) if p.is_file()]
    else:
        files = out.stdout.split()
    return sorted(f for f in files if f.endswith(TEXT_SUFFIXES) and (REPO / f).is_file())


def history_notes(name, text):
    """Return 'file:line: match' for each history note in one file (and its name)."""
    found = [f'{name}: file name' for _ in HISTORY.finditer(Path(name).name)]
    for number, line in enumerate(text.splitlines(), 1):
        found += [f'{name}:{number}: {m.group(0)!r}' for m in HISTORY.finditer(line)]
    return found


def test_the_pattern_catches_history_and_spares_plain_words():
    notes = ['trained in session 17', 'the sixth training stage', 'Fifth-stage default',
             'infonet_default_stage6a.pt', 'stage 4 of training', 'development round 3',
             'eval_accuracy_fast_session14.md']
    assert all(HISTORY.search(n) for n in notes), [n for n in notes if not HISTORY.search(n)]
    plain = ['a staged launch', 'the stage that reads ranks', 'round to 3',
             'backstage', 'sessions of ROS tooling', 'a 2-stage decoder']
    assert not [p for p in plain if HISTORY.search(p)]


def test_no_history_outside_the_changelog():
    files = tracked_files()
    assert 'README.md' in files and any(f.startswith('infonet_ros/') for f in files)
    problems = []
    for name in files:
        try:
            text = (REPO / name).read_text(encoding='utf-8')
        except UnicodeDecodeError:
            continue
        problems += history_notes(name, text)
    assert not problems, ('history belongs in CHANGELOG.md:\n' + '\n'.join(problems[:50]))


@pytest.mark.parametrize('name', ['CHANGELOG.md'])
def test_the_changelog_exists(name):
    text = (REPO / name).read_text(encoding='utf-8')
    assert re.search(r'^## \[?(Unreleased|\d{4}-\d{2}-\d{2})', text, re.MULTILINE)
