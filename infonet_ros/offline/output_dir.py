# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The output directory of an analysis: checked before the analysis, never mixed with another run.

An analysis writes ``mi.csv`` (or ``mi.partial.csv``), ``summary.json``, ``mi_timeseries.png``
and ``matrix_<name>.png`` per matrix. A second analysis into the same directory would replace
some of the first one's files and leave the rest (figures of matrices it does not draw, a table
it does not write) beside its own, as if one run had made them all. So a directory that holds
anything is refused unless ``overwrite``; with ``overwrite``, the files an earlier analysis
wrote (:data:`ANALYSIS_FILES`) are removed just before the new ones are written, and other
files are left alone.

:meth:`OutputDir.prepare` checks, before any work, that the directory can be created and
written to (a real write: permission bits say nothing for root or on a read-only mount).
"""

from __future__ import annotations

import os
from pathlib import Path
import tempfile

from infonet_ros.offline.figures import TIMESERIES_NAME
from infonet_ros.offline.params import AnalysisError
from infonet_ros.offline.report import CSV_NAME, PARTIAL_CSV_NAME, SUMMARY_NAME

# Names (glob patterns) of the files an analysis writes, and of the temporary files they are
# written under (``.NAME.tmp``, ``.STEM.tmp.png``), which a killed run can leave behind.
ANALYSIS_FILES = (CSV_NAME, PARTIAL_CSV_NAME, SUMMARY_NAME, TIMESERIES_NAME, 'matrix_*.png',
                  '.*.tmp', '.*.tmp.png')
# Entries named in the error for a non-empty directory.
LISTED_ENTRIES = 5


class OutputDir:
    """
    Where an analysis writes; see the module docstring.

    :param path: the output directory.
    :param overwrite: replace the files of an earlier analysis in a non-empty directory.
    """

    def __init__(self, path, overwrite: bool = False):
        self.path = Path(path)
        self.overwrite = overwrite
        self.created = False  # this run made the directory (removed again if left unused)

    def prepare(self) -> Path:
        """
        Create the directory (if missing) and check that this run may write into it.

        :raises AnalysisError: ``path`` is a file, a non-empty directory without
            ``overwrite``, or cannot be created or written to.
        """
        p = self.path
        if p.exists() and not p.is_dir():
            raise AnalysisError(f'output {p} is a file, not a directory: give -o a directory')
        if p.is_dir():
            entries = sorted(e.name for e in p.iterdir())
            if entries and not self.overwrite:
                shown = ', '.join(entries[:LISTED_ENTRIES]) + (
                    f', ... ({len(entries)} entries)' if len(entries) > LISTED_ENTRIES else '')
                raise AnalysisError(f'output directory {p} is not empty ({shown}): pass '
                                    '--overwrite to replace the files of an earlier analysis, '
                                    'or give another -o')
        else:
            try:
                p.mkdir(parents=True)
            except OSError as exc:
                raise AnalysisError(f'cannot create output directory {p}: '
                                    f'{exc.strerror or exc}') from None
            self.created = True
        try:
            fd, probe = tempfile.mkstemp(prefix='.write_check.', dir=p)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            self.discard()
            raise AnalysisError(f'output directory {p} is not writable: '
                                f'{exc.strerror or exc}') from None
        return p

    def earlier_files(self) -> list[Path]:
        """Return the files of an earlier analysis in the directory (:data:`ANALYSIS_FILES`)."""
        return sorted({f for pattern in ANALYSIS_FILES for f in self.path.glob(pattern)
                       if f.is_file()})

    def clear_earlier_run(self) -> list[Path]:
        """Remove the files of an earlier analysis (only with ``overwrite``); return them."""
        if not self.overwrite:
            return []
        removed = self.earlier_files()
        for f in removed:
            f.unlink(missing_ok=True)
        return removed

    def discard(self) -> None:
        """Remove the directory again if this run created it and wrote nothing into it."""
        if self.created:
            try:
                self.path.rmdir()
            except OSError:
                pass  # not empty: something was written, keep it
            self.created = False
