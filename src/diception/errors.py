"""The one exception type for mistakes a user can fix (bad input, bad paths, bad weights).

The command line prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class DiceptionInputError(ValueError):
    """A user-fixable problem; the message names the problem and the fix."""
