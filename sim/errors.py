"""User-facing errors: the CLI prints their message as one paragraph, never a traceback."""

from __future__ import annotations


class WelfareSimError(Exception):
    """Base class for errors a user can fix (bad input, bad environment)."""


class InputError(WelfareSimError):
    """A scenario file, experiment file, data file or CLI argument is not valid."""


class Problems:
    """Collect every :class:`InputError` of a file instead of stopping at the first, so a user
    fixes them all in one pass (``validate``, ``run``, ``sweep``)::

        problems = Problems()
        with problems.check():
            ...  # raises InputError
        problems.raise_if_any()  # one error as it was; several as one numbered message
    """

    def __init__(self) -> None:
        self.errors: list[InputError] = []

    def check(self) -> _Check:
        return _Check(self)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ProblemsError(self.errors)


class ProblemsError(InputError):
    """Several problems at once; ``errors`` holds each one."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problems:\n" + "\n".join(
            f"  {i}. {e}" for i, e in enumerate(errors, 1)))


class _Check:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, ProblemsError):
            self.problems.errors.extend(exc.errors)
            return True
        if exc is not None and isinstance(exc, InputError):
            self.problems.errors.append(exc)
            return True
        return False
