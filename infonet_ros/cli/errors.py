# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The one-line error of a subcommand: ``infonet-ros COMMAND: error: ...`` on stderr."""

import sys


def one_line(what) -> str:
    """Return the text of an error (or any object) on one line, whitespace runs collapsed."""
    # Some library messages (torch.load's, for one) span several lines.
    return ' '.join(str(what).split())


def print_error(prog: str, what) -> int:
    """Print ``PROG: error: WHAT`` on one line to stderr; return the exit code 1."""
    print(f'{prog}: error: {one_line(what)}', file=sys.stderr)
    return 1
