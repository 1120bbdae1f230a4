"""How every `pointsnet` command reports what went wrong: one format, one exit-code rule.

- exit 0: done (for a check: everything holds);
- exit 1: a check ran and found a problem (`ledger verify`, `signature verify`,
  `settle verify-statement`, `settle preview` of a closed period whose hash changed); its
  report says what, in its own output;
- exit 2: the command did not do what was asked (bad usage, a bad setting, bad input, an
  operation the hub refuses, a database it cannot open). Nothing was written, and stderr holds
  one line per problem: `pointsnet: error: CODE: message`.

Kept in `network` so that every package's commands (network <- partners <- settlement <- infra)
raise the same `CommandError`; the root group (`HubGroup.main`) prints it, and click's own usage
errors, in that one format.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click
from click.exceptions import NoArgsIsHelpError

from network.config import ConfigError
from network.errors import HubError

EXIT_CHECK_FAILED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C (128 + SIGINT)
PROG = "pointsnet"


class CommandError(click.ClickException):
    """A command refused or could not do what was asked; each (code, message) is one line."""

    exit_code = EXIT_ERROR

    def __init__(self, code: str, message: str,
                 more: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.problems = [(code, message), *more]

    def format_message(self) -> str:
        return f"{self.code}: {self.message}"

    def show(self, file: Any = None) -> None:
        for code, message in self.problems:
            click.echo(error_line(code, message), err=True)


def error_line(code: str, message: str) -> str:
    # One line whatever the message holds (a driver's multi-line error, say), so scripts can
    # read stderr line by line.
    return f"{PROG}: error: {code}: {' '.join(message.split())}"


def fail(code: str, message: str) -> NoReturn:
    raise CommandError(code, message)


def from_config_error(exc: ConfigError) -> CommandError:
    problems = [(exc.code, problem) for problem in exc.problems]
    return CommandError(*problems[0], more=problems[1:])


def _usage_code(exc: click.UsageError) -> str:
    if isinstance(exc, click.MissingParameter):
        return "MISSING_OPTION" if isinstance(exc.param, click.Option) else "MISSING_ARGUMENT"
    if isinstance(exc, click.NoSuchOption):
        return "UNKNOWN_OPTION"
    if isinstance(exc, click.BadParameter):
        return "BAD_VALUE"
    return "BAD_USAGE"


class HubGroup(click.Group):
    """The root group: maps the domain's coded errors to `CommandError`, prints every error in
    the one format and exits with the one rule (see the module docstring)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:  # its message names the variable; a traceback adds nothing
            raise from_config_error(exc) from None
        except HubError as exc:  # every domain's refusals (ledger, partners, settlement)
            raise CommandError(exc.code, exc.message) from None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except CommandError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except NoArgsIsHelpError as exc:  # `pointsnet partners`: the help, then what is missing
            click.echo(exc.format_message())
            where = " ".join([PROG, *exc.ctx.command_path.split()[1:]])
            click.echo(error_line("MISSING_COMMAND", f"`{where}` needs one of the commands "
                                                     "listed above"), err=True)
            sys.exit(EXIT_ERROR)
        except click.UsageError as exc:
            # The command as typed, under its installed name whatever runs it (tests, -m).
            where = " ".join([PROG, *(exc.ctx.command_path.split()[1:] if exc.ctx else [])])
            click.echo(error_line(_usage_code(exc), f"{exc.format_message()} "
                                                    f"(see `{where} --help`)"), err=True)
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:  # click's FileError and the like
            click.echo(error_line("BAD_INPUT", exc.format_message()), err=True)
            sys.exit(EXIT_ERROR)
        except click.Abort:
            click.echo(f"{PROG}: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        # `ctx.exit(n)` inside a command comes back as n when not standalone.
        sys.exit(result if isinstance(result, int) else 0)
