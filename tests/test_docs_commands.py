"""The commands of README.md and docs/ run as written against a live server, so they cannot drift.

A fenced block preceded by the line `<!-- doc-test -->` is run. The blocks of one document run in
order, in one bash session (variables carry over), against a live server on a seeded demo
instance with the superuser `admin`/`admin` (as `make run` leaves it); `localhost:8000` in a
command means that server. Expected output is compared where the document shows it:

- in a block whose commands start with `$ `, the lines after a command are its expected output;
- in a `sh` block, a comment `# -> ...` after a command is the expected output of that command,
  and `# -> 4xx ...` says that the command is expected to fail with that HTTP status and body.

Expected lines must appear in the output in order (other lines may come between). Numbers, UUIDs
and timestamps match any value of their kind and `...` matches anything, so ids and times may
differ from the document's. Without an expected error, any HTTP status of 400 or more fails the
document. A `python` block runs with the venv's interpreter, `SERVER` and `TOKEN` (the superuser's
API token) set.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import AccessToken
from demo.simulation import DemoSize, Simulation, run

REPO = Path(__file__).resolve().parents[1]
MARKER = "<!-- doc-test -->"
DOCUMENTS = [
    "README.md",
    "docs/api.md",
    "docs/client-events.md",
    "docs/exports.md",
    "docs/query-api.md",
    "docs/dashboards.md",
]
SEPARATOR = "@@doc-block@@"
TOKEN_KIND = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"|(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<ellipsis>\.\.\.|…)"
)
KIND_PATTERN = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "time": r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?",
    "number": r"-?\d+(?:\.\d+)?",
    "ellipsis": r".*?",
}
# Prints what curl received; an HTTP error fails the command unless DOC_EXPECT is set, in which
# case the status is printed before the body (as the documents write `# -> 400 {...}`).
PRELUDE = r"""
set -euo pipefail
curl() {
  local out status
  out=$(command curl -w '\n%{http_code}' "$@") || return $?
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ -n ${DOC_EXPECT:-} ]]; then printf '%s %s\n' "$status" "$out"; return 0; fi
  printf '%s\n' "$out"
  if (( status >= 400 )); then echo "HTTP $status from: curl $*" >&2; return 22; fi
}
"""


@dataclass
class Block:
    document: str
    line: int
    language: str
    commands: list[str] = field(default_factory=list)  # shell text, one command each
    expected: list[list[str]] = field(default_factory=list)  # expected lines per command
    source: str = ""


def runnable_blocks(document: str) -> list[Block]:
    lines = (REPO / document).read_text().splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = lines[index + 1]
        assert fence.startswith("```"), f"{document}:{index + 1}: {MARKER} must precede a fenced block"
        end = next(i for i in range(index + 2, len(lines)) if lines[i].startswith("```"))
        body = lines[index + 2 : end]
        block = Block(document, index + 2, fence[3:].strip() or "sh", source="\n".join(body))
        if block.language != "python":
            parse_shell(block, body)
        blocks.append(block)
    return blocks


def parse_shell(block: Block, body: list[str]) -> None:
    console = any(line.startswith("$ ") for line in body)
    current: list[str] = []
    for line in body:
        # A command goes on after a trailing backslash or inside an open single-quoted string.
        continuing = bool(current) and (current[-1].endswith("\\") or "\n".join(current).count("'") % 2 == 1)
        if continuing:
            current.append(line)
        elif console and line.startswith("$ "):
            current = [line[2:]]
            block.commands.append("")
            block.expected.append([])
        elif console:
            if line.strip() and block.commands:
                block.expected[-1].append(line)
            continue
        elif line.strip().startswith("# -> "):
            block.expected[-1].append(line.strip()[5:])
            continue
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        else:
            current = [line]
            block.commands.append("")
            block.expected.append([])
        block.commands[-1] = "\n".join(current)


def expected_error(expected: list[str]) -> bool:
    return bool(expected) and re.match(r"[45]\d\d ", expected[0]) is not None


def line_pattern(expected: str) -> re.Pattern[str]:
    parts, at = [], 0
    for match in TOKEN_KIND.finditer(expected):
        parts.append(re.escape(expected[at : match.start()]))
        parts.append(KIND_PATTERN[match.lastgroup or "ellipsis"])
        at = match.end()
    parts.append(re.escape(expected[at:]))
    return re.compile("".join(parts))


def assert_shows(output: str, expected: list[str], where: str) -> None:
    remaining = [line.strip() for line in output.splitlines()]
    for wanted in expected:
        pattern = line_pattern(wanted.strip())
        for position, line in enumerate(remaining):
            if pattern.fullmatch(line):
                remaining = remaining[position + 1 :]
                break
        else:
            raise AssertionError(f"{where}: expected a line like\n  {wanted}\nin the output:\n{output}")


def localize(text: str, url: str) -> str:
    return text.replace("http://localhost:8000", url).replace("localhost:8000", url.removeprefix("http://"))


@pytest.fixture
def demo_instance(transactional_db, django_db_reset_sequences, ship, clickhouse, live_server, settings):
    """What `make run` leaves: the superuser admin/admin and the demo organization, shipped."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # api.md's walkthrough starts by registering a user, on an instance that allows it (it says so).
    settings.REGISTRATION_OPEN = True
    get_user_model().objects.create_superuser("admin", "admin@example.com", "admin")
    size = DemoSize(days=2, annotators=2, projects=1, jobs_per_task=2, frames_per_job=150)
    run(Simulation(seed=3, size=size, start=timezone.now().date() - timedelta(days=size.days)))
    ship()
    return live_server.url


@pytest.mark.slow
def test_every_marked_command_in_the_docs_runs_as_written(demo_instance, ship, tmp_path):
    url = demo_instance
    token = AccessToken.issue(get_user_model().objects.get(username="admin"), "docs")[1]
    env = {**os.environ, "SERVER": url, "TOKEN": token}
    # The commands run where the repository's files are, but write (cookie jars, downloads) here.
    for entry in REPO.iterdir():
        if entry.name not in {".git", "data"}:
            (tmp_path / entry.name).symlink_to(entry)
    ran = 0
    for document in DOCUMENTS:
        blocks = runnable_blocks(document)
        shell = [b for b in blocks if b.language != "python"]
        script = [PRELUDE]
        for block in shell:
            for command, expected in zip(block.commands, block.expected, strict=True):
                prefix = "DOC_EXPECT=1 " if expected_error(expected) else ""
                script += [f"echo '{SEPARATOR}'", prefix + localize(command, url)]
        if shell:
            result = subprocess.run(
                ["bash", "-c", "\n".join(script)],
                cwd=tmp_path,
                env={**env, "REPO": str(REPO)},
                capture_output=True,
                text=True,
                timeout=300,
                stdin=subprocess.DEVNULL,
            )
            outputs = result.stdout.split(SEPARATOR + "\n")[1:]
            commands = [(b, c, e) for b in shell for c, e in zip(b.commands, b.expected, strict=True)]
            failed = commands[len(outputs) - 1][1] if outputs else ""
            assert result.returncode == 0 and len(outputs) == len(commands), (
                f"{document}: command {len(outputs)} of {len(commands)} failed ({failed!r}):\n"
                f"{result.stderr}\n{result.stdout[-3000:]}"
            )
            for (block, command, expected), output in zip(commands, outputs, strict=True):
                assert_shows(output, expected, f"{document}:{block.line}: {command.splitlines()[0]}")
            ran += len(commands)
        for block in blocks:
            if block.language == "python":
                result = subprocess.run(
                    [sys.executable, "-c", localize(block.source, url)],
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert result.returncode == 0, f"{document}:{block.line}:\n{result.stderr}"
                ran += 1
        ship()  # what the commands caused, for the next document's analytics
    assert ran >= 15


def test_the_parser_reads_commands_expected_output_and_errors():
    block = Block("x.md", 1, "sh")
    parse_shell(
        block,
        ["# a comment", "A=1", "curl -s $H/x \\", "  -d '{}'", '# -> 400 {"f": ["bad"]}', ""],
    )
    assert block.commands == ["A=1", "curl -s $H/x \\\n  -d '{}'"]
    assert block.expected == [[], ['400 {"f": ["bad"]}']]
    assert expected_error(block.expected[1]) and not expected_error(block.expected[0])
    console = Block("x.md", 1, "console")
    parse_shell(console, ["$ curl -si \\", "    x", "HTTP/1.1 202 Accepted", '{"id":"..."}'])
    assert console.commands == ["curl -si \\\n    x"]
    quoted = Block("x.md", 1, "console")
    parse_shell(quoted, ["$ curl -d '{", '  "a": 1}\'', "{}"])
    assert quoted.commands == ["curl -d '{\n  \"a\": 1}'"] and quoted.expected == [["{}"]]
    assert console.expected == [["HTTP/1.1 202 Accepted", '{"id":"..."}']]
    assert_shows('HTTP/1.1 202 Accepted\nDate: x\n{"id":"ab"}', console.expected[0], "here")
    with pytest.raises(AssertionError):
        assert_shows("HTTP/1.1 404 Not Found", ["HTTP/1.1 202 Accepted"], "here")
    assert line_pattern('{"query_id":"1f5634f4-85bf-476e-8aaa-d9083d39ffe3","n":7}').fullmatch(
        '{"query_id":"00000000-85bf-476e-8aaa-d9083d39ffe3","n":12}'
    )
