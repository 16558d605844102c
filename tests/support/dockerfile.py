"""The job image's Dockerfile as the tests read it, without a docker engine: its instructions in
order, the environment and user it sets, its volumes, and the owner and mode its RUN steps give
a path. Only the forms our Dockerfile uses are understood (no ARG expansion, no heredocs)."""

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from tests.support.worker_harness import CONTAINER_DIR

DOCKERFILE = CONTAINER_DIR / "Dockerfile"
_COMMAND_SEPARATORS = {"&&", "||", ";", "|"}


@dataclass(frozen=True)
class Instruction:
    index: int  # its place in the file, counting instructions only
    keyword: str  # upper case: RUN, ENV, VOLUME...
    args: str


@dataclass(frozen=True)
class Ownership:
    uid: int
    gid: int
    mode: int


def _joined_lines(text: str) -> list[str]:
    """Logical lines: continuations joined, comments and blank lines dropped (a comment line
    inside a continuation is dropped too, as docker does)."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def _commands(run: str) -> list[list[str]]:
    """A RUN step's shell commands, each as its words (`a && b; c` gives three)."""
    lexer = shlex.shlex(run, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in _COMMAND_SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def _under(token: str, path: str) -> bool:
    return token == path or token.startswith(path.rstrip("/") + "/")


class Dockerfile:
    def __init__(self, text: str) -> None:
        self.instructions: list[Instruction] = []
        for index, line in enumerate(_joined_lines(text)):
            keyword, _, args = line.partition(" ")
            self.instructions.append(Instruction(index, keyword.upper(), args.strip()))

    @classmethod
    def read(cls, path: Path = DOCKERFILE) -> "Dockerfile":
        return cls(path.read_text())

    def named(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """What every ENV sets, the later winning (the environment the container starts with)."""
        env: dict[str, str] = {}
        for instruction in self.named("ENV"):
            words = shlex.split(instruction.args)
            if "=" not in words[0]:  # the legacy form: ENV NAME value with spaces
                env[words[0]] = instruction.args.split(maxsplit=1)[1]
                continue
            for word in words:
                name, _, value = word.partition("=")
                env[name] = value
        return env

    def user(self) -> tuple[int, int]:
        """The uid and gid of the last USER, which must be numeric (no /etc/passwd lookup)."""
        user, _, group = self.named("USER")[-1].args.partition(":")
        return int(user), int(group or user)

    def workdir(self) -> str:
        return self.named("WORKDIR")[-1].args

    def entrypoint(self) -> list[str]:
        argv: list[str] = json.loads(self.named("ENTRYPOINT")[-1].args)
        return argv

    def volumes(self) -> dict[str, Instruction]:
        """Each declared volume path and the VOLUME instruction that declares it."""
        declared: dict[str, Instruction] = {}
        for instruction in self.named("VOLUME"):
            args = instruction.args
            paths = json.loads(args) if args.startswith("[") else args.split()
            declared.update(dict.fromkeys(paths, instruction))
        return declared

    def copies(self) -> dict[str, str]:
        """Each COPY's destination and its source in the build context (one source each)."""
        found: dict[str, str] = {}
        for instruction in self.named("COPY"):
            words = [w for w in shlex.split(instruction.args) if not w.startswith("--")]
            *sources, destination = words
            (source,) = sources
            found[destination] = source
        return found

    def ownership(self, path: str, before: Instruction) -> Ownership | None:
        """The owner and mode the RUN steps before `before` give `path` (its last chown and
        chmod naming it), or None when they do not set both, or set them non-numerically."""
        uid_gid: tuple[int, int] | None = None
        mode: int | None = None
        for instruction in self.named("RUN"):
            if instruction.index >= before.index:
                break
            for command, *words in _commands(instruction.args):
                operands = [w for w in words if not w.startswith("-")]
                if len(operands) < 2 or path not in operands[1:]:
                    continue
                if command == "chown":
                    user, _, group = operands[0].partition(":")
                    if not (user.isdigit() and group.isdigit()):
                        return None
                    uid_gid = int(user), int(group)
                elif command == "chmod":
                    mode = int(operands[0], 8)
        if uid_gid is None or mode is None:
            return None
        return Ownership(*uid_gid, mode)

    def steps_touching(self, path: str, after: Instruction) -> list[Instruction]:
        """RUN, COPY and ADD steps after `after` that name `path` or a path under it."""
        return [
            i
            for i in self.instructions
            if i.index > after.index
            and i.keyword in {"RUN", "COPY", "ADD"}
            and any(_under(word, path) for word in shlex.split(i.args))
        ]
