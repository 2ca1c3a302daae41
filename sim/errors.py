"""User-facing errors: the CLI prints their message as one paragraph, never a traceback."""


class WelfareSimError(Exception):
    """Base class for errors a user can fix (bad input, bad environment)."""


class InputError(WelfareSimError):
    """A scenario file, experiment file, data file or CLI argument is not valid."""
