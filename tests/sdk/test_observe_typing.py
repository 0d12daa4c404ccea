"""`@observe` keeps the decorated callable's signature for type checkers: checked by running mypy.

typing_observe.py must pass `mypy --strict`; a snippet of calls the signatures forbid must be
rejected, each on its own line, so a decorator typed as returning `Any` (or `Callable[..., Any]`)
fails here. mypy reads the package from `sdk/` (the editable install's import hook is opaque to it)
with `--follow-imports=silent`: only these files' own errors count.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.sdk.mypy_run import run_mypy

CHECKED = Path(__file__).with_name("typing_observe.py")

# Each line marked `# E: code` must get exactly that mypy error code.
WRONG = textwrap.dedent(
    """\
    from collections.abc import Iterator

    import tokentrail

    @tokentrail.observe
    def plain(x: int, *, scale: float = 1.0) -> float:
        return x * scale

    @tokentrail.observe(kind="tool")
    async def tool(name: str) -> int:
        return len(name)

    @tokentrail.observe
    def chunks(n: int) -> Iterator[int]:
        yield n

    plain("not an int")  # E: arg-type
    plain(1, 2.0)  # E: call-arg
    plain(1, scal=2.0)  # E: call-arg
    text: str = plain(1)  # E: assignment
    tool(3).close()  # E: arg-type
    number: int = tool("x")  # E: assignment
    first: int = chunks(2)  # E: assignment
    tokentrail.observe(kind="bogus")  # E: call-overload
    """
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for both runs: the second reuses the first's analysis of the package."""
    return tmp_path_factory.mktemp("mypy-cache")


def test_decorated_shapes_keep_their_types(cache_dir: Path) -> None:
    result = run_mypy(str(CHECKED), cache_dir=cache_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_calls_against_the_signature_are_errors(tmp_path: Path, cache_dir: Path) -> None:
    snippet = tmp_path / "wrong_calls.py"
    snippet.write_text(WRONG)
    expected = {
        number: line.split("# E: ")[1]
        for number, line in enumerate(WRONG.splitlines(), start=1)
        if "# E: " in line
    }
    result = run_mypy(str(snippet), cache_dir=cache_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    reported: dict[int, set[str]] = {}
    for match in re.finditer(r"^.*wrong_calls\.py:(\d+): error: .*\[([a-z-]+)\]$", result.stdout, re.M):
        reported.setdefault(int(match[1]), set()).add(match[2])
    assert reported == {number: {code} for number, code in expected.items()}, result.stdout
