"""The errors mlpfit raises on purpose.

Every one of them is the user's to fix, so each message names the offending value and says what
to do instead. The CLI turns them into one line on stderr and exit code 2; anything else is a bug
(exit 1).
"""

import re


class MlpfitError(Exception):
    """Base class: a problem with what the user asked for, reported as one line."""

    exit_code = 2


def quoted_error(err: Exception, limit: int = 160) -> str:
    """Another library's error, quoted inside one of ours: one line, and short (its text may come from a file)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# C0 and C1 controls (ESC starts a terminal escape sequence, \x9b is CSI on its own), line and paragraph
# separators, and the bidirectional overrides that make text read other than it is.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character as an escape (``\\x1b``), so no message can drive the terminal."""
    return CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


class UsageError(MlpfitError):
    """An option or argument has a value that cannot work (e.g. ``--hidden -3``)."""


class FormulaError(MlpfitError):
    """A formula is malformed, unsafe, or uses something outside the allowed grammar."""


class DataError(MlpfitError):
    """A data file (CSV, IDX) or the data in it cannot be used as given."""


class RunFolderError(MlpfitError):
    """A run folder is missing, incomplete, corrupt, or from a newer format."""


class TrainingError(MlpfitError):
    """Training could not produce a usable model (e.g. the loss became NaN)."""


class MlpfitWarning(UserWarning):
    """Something the user should know but that does not stop the work (an option that does not
    apply, a column left out, a prediction outside the training range). The CLI prints each as
    one line on stderr; in Python it is an ordinary warning."""
