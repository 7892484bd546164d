# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every ``infonet-ros ...`` command line shown in the docs parses with the real parser.

Command lines are taken from README.md, docs/, benchmarks/README.md and examples/: from
fenced code blocks and example scripts (line continuations joined), and from inline code
spans that pass at least one option. Each goes through the argparse parser of its subcommand
(``build_parser()`` of the module that ``infonet_ros.cli.main.COMMANDS`` names): parse only,
nothing runs. Square brackets of optional parts (``[--weights fine]``) are read as written
without them. A command shown with ``...`` for elided arguments has its options checked
against the parser's option strings instead of a full parse.
"""

import contextlib
import importlib
import io
from pathlib import Path
import re
import shlex

import pytest

from infonet_ros.cli.main import COMMANDS

REPO = Path(__file__).resolve().parents[2]
SOURCES = ['README.md', 'docs/*.md', 'benchmarks/README.md', 'examples/*.sh', 'examples/*.md']
FENCE = re.compile(r'^```[^\n]*\n(.*?)^```', re.MULTILINE | re.DOTALL)
INLINE = re.compile(r'(?<!`)`([^`\n]+)`(?!`)')
COMMAND = re.compile(r'(?:^|[\s;(&|])infonet-ros(?=\s|$)(.*)')


def documents():
    for pattern in SOURCES:
        yield from sorted(REPO.glob(pattern))


def command_lines(text, markdown=True):
    """Yield (line number, text after 'infonet-ros') for each command line in a document."""
    blocks = ([(m.start(1), m.group(1)) for m in FENCE.finditer(text)] if markdown
              else [(0, text)])
    for start, block in blocks:
        first = text.count('\n', 0, start) + 1
        joined, line0 = '', None
        for number, line in enumerate(block.split('\n'), first):
            line0 = number if not joined else line0
            if line.rstrip().endswith('\\'):
                joined += line.rstrip()[:-1] + ' '
                continue
            joined += line
            match = COMMAND.search(joined)
            if match and not joined.lstrip().startswith('#'):
                yield line0, match.group(1)
            joined = ''
    if markdown:
        prose = FENCE.sub(lambda m: '\n' * m.group(0).count('\n'), text)
        for m in INLINE.finditer(prose):
            match = COMMAND.search(m.group(1))
            if match and re.search(r'\s-{1,2}\w', match.group(1)):
                yield prose.count('\n', 0, m.start()) + 1, match.group(1)


def arguments(rest):
    """Split one command's arguments: shell words up to a comment, pipe, ';' or '&&'."""
    lexer = shlex.shlex(rest, posix=True, punctuation_chars=';&|()<>')
    lexer.whitespace_split = True
    lexer.commenters = '#'
    args = []
    for word in lexer:
        if word and set(word) <= set(';&|()<>'):
            break
        args.append(word.strip('[]'))
    return [a for a in args if a]


def all_commands():
    found = []
    for path in documents():
        text = path.read_text(encoding='utf-8')
        for line, rest in command_lines(text, markdown=path.suffix == '.md'):
            found.append((f'{path.relative_to(REPO)}:{line}', rest))
    return found


def parse_problem(args):
    """Return why the command does not parse, or None."""
    if not args or args[0] in ('-h', '--help'):
        return None
    if args[0] not in COMMANDS:
        return f'unknown command {args[0]!r}'
    parser = importlib.import_module(COMMANDS[args[0]][0]).build_parser()
    rest = args[1:]
    if '...' in rest:  # elided arguments: check the options shown
        known = set(parser._option_string_actions)
        unknown = [a.split('=')[0] for a in rest if a.startswith('-') and a != '-'
                   and a.split('=')[0] not in known]
        return f'unknown options {unknown}' if unknown else None
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(rest)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return err.getvalue().strip().splitlines()[-1]
    return None


def test_the_extraction_finds_commands_and_their_arguments():
    text = ('Run `infonet-ros analyze BAG --params config/mi.yaml`, or see `infonet-ros train`.'
            '\n\n```bash\nOMP_NUM_THREADS=1 infonet-ros estimate --csv f.csv \\\n'
            '  --x a --y b   # two columns\n# infonet-ros commented --out\n```\n')
    found = list(command_lines(text))
    assert [(line, arguments(rest)) for line, rest in found] == [
        (4, ['estimate', '--csv', 'f.csv', '--x', 'a', '--y', 'b']),
        (1, ['analyze', 'BAG', '--params', 'config/mi.yaml'])]


def test_a_wrong_flag_is_reported():
    assert parse_problem(['analyze', 'BAG', '--params-file', 'x.yaml'])
    assert parse_problem(['analyse', 'BAG'])
    assert parse_problem(['analyze', '...', '--no-such-flag'])
    assert parse_problem(['analyze', 'BAG', '--params', 'x.yaml']) is None


def test_every_subcommand_has_a_parser():
    for name, (module, _) in COMMANDS.items():
        parser = importlib.import_module(module).build_parser()
        assert parser.prog.endswith(name), (name, parser.prog)


def test_the_docs_show_commands():
    assert len(all_commands()) >= 5


@pytest.mark.parametrize('where,rest', [pytest.param(w, r, id=w) for w, r in all_commands()])
def test_documented_command_parses(where, rest):
    args = arguments(rest)
    problem = parse_problem(args)
    assert problem is None, f'{where}: infonet-ros {" ".join(args)}: {problem}'
