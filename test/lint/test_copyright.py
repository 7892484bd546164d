# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Every source file starts with the project's copyright and license lines."""

import os
from pathlib import Path
import re

import pytest
from test_flake8 import lint_roots

REPO = Path(__file__).resolve().parents[2]
HEADER = [re.compile(r'# Copyright \d{4}(-\d{4})? The infonet_ros Authors$'),
          re.compile(r'# SPDX-License-Identifier: Apache-2\.0$')]
SUFFIXES = ('.py', '.sh')


def source_files():
    """Python and shell files under the linted roots, plus CMakeLists.txt."""
    files = [REPO / 'CMakeLists.txt']
    for root in map(Path, lint_roots()):
        if root.is_file():
            files.append(root)
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(('.', '__'))]
            files += [Path(folder) / n for n in names if n.endswith(SUFFIXES)]
    return sorted(files)


def header_problem(path):
    """Return why the file's header is wrong, or None when it is right."""
    lines = path.read_text(encoding='utf-8').splitlines()
    if lines and lines[0].startswith('#!'):
        lines = lines[1:]
    for i, pattern in enumerate(HEADER):
        if len(lines) <= i or not pattern.match(lines[i]):
            found = lines[i] if len(lines) > i else '<end of file>'
            return f'line {i + 1} of the header should match {pattern.pattern!r}: {found!r}'
    return None


def test_header_check_rejects_a_wrong_header(tmp_path):
    good = tmp_path / 'good.py'
    good.write_text('#!/usr/bin/env python3\n# Copyright 2026 The infonet_ros Authors\n'
                    '# SPDX-License-Identifier: Apache-2.0\n')
    assert header_problem(good) is None
    bad = tmp_path / 'bad.py'
    bad.write_text('# Copyright 2026 Someone Else\n# SPDX-License-Identifier: Apache-2.0\n')
    assert 'line 1' in header_problem(bad)
    empty = tmp_path / 'empty.py'
    empty.write_text('')
    assert header_problem(empty) is not None


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    files = source_files()
    assert len(files) > 10, files  # the walk found the package's code
    problems = [f'{p.relative_to(REPO)}: {header_problem(p)}' for p in files
                if header_problem(p)]
    assert not problems, '\n'.join(problems)
