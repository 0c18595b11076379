"""What a script's command line and environment may hold, checked before anything runs.

The kernel refuses one argument over 128 KiB or a command line with its environment over
about 2 MiB (``Argument list too long``), and no argument or variable may hold a NUL byte.
Steps are held to smaller limits, so that a step refused here is refused for a reason a user
can read, and its log line stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

MAX_ARGUMENTS = 10_000
MAX_ARGUMENT_CHARACTERS = 65_536
MAX_COMMAND_CHARACTERS = 262_144
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CommandLineError(ValueError):
    """A command line or environment the script cannot be started with."""


def argument_problem(value: str) -> str | None:
    """Why one argument cannot be passed to a script, or None."""
    if "\0" in value:
        return "it holds a NUL byte, which no command-line argument can"
    if len(value) > MAX_ARGUMENT_CHARACTERS:
        return f"it is {len(value)} characters long; one argument may have at most {MAX_ARGUMENT_CHARACTERS}"
    return None


def arguments_problem(arguments: Sequence[str]) -> str | None:
    """Why a whole command line cannot be passed to a script, or None."""
    if len(arguments) > MAX_ARGUMENTS:
        return f"there are {len(arguments)} arguments; a step may have at most {MAX_ARGUMENTS}"
    total = sum(len(argument) + 1 for argument in arguments)
    if total > MAX_COMMAND_CHARACTERS:
        return (
            f"the arguments add up to {total} characters; a step's command line may have at most "
            f"{MAX_COMMAND_CHARACTERS} (pass large values in a file, as data)"
        )
    return None


def variable_problem(name: object, value: object) -> str | None:
    """Why an environment variable cannot be given to a script, or None."""
    if not isinstance(name, str) or not VARIABLE_NAME.match(name):
        return f"{name!r} is not a variable name (letters, digits and '_', not starting with a digit)"
    if not isinstance(value, str):
        return f"the value of {name} is a {type(value).__name__} ({value!r:.40}); variables hold text"
    if "\0" in value:
        return f"the value of {name} holds a NUL byte"
    return None


def check_command_line(step: str, arguments: Sequence[str], environment: Mapping[str, str]) -> None:
    """Raise CommandLineError naming the step and the argument or variable at fault."""
    for index, argument in enumerate(arguments):
        problem = argument_problem(argument)
        if problem:
            raise CommandLineError(
                f'step "{step}": argument {index} cannot be given to the script: {problem}.'
            )
    problem = arguments_problem(arguments)
    if problem:
        raise CommandLineError(f'step "{step}": {problem}.')
    for name, value in environment.items():
        problem = variable_problem(name, value)
        if problem:
            raise CommandLineError(f'step "{step}": environment variable {problem}.')


def shortened(text: str, limit: int = 2000) -> str:
    """``text`` for a log line: at most ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"
