"""`make run` installs what running needs, not the CDK or the test tools (README, "The two
commands"): the `local` extra, and the extras it names, hold none of them."""

import re
import tomllib

from tests.support.paths import REPO_ROOT

NOT_FOR_RUNNING = {
    "aws-cdk-lib",
    "constructs",
    "cdk-nag",
    "cfn-lint",
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "ruff",
    "mypy",
    "import-linter",
    "litellm",
    "boto3-stubs",
}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def _installed_by(extra: str, extras: dict[str, list[str]]) -> list[str]:
    requirements = []
    for requirement in extras[extra]:
        if _name(requirement) == "jobsched":
            for named in re.findall(r"\[(.*)\]", requirement)[0].split(","):
                requirements += _installed_by(named.strip(), extras)
        else:
            requirements.append(requirement)
    return requirements


def test_the_local_extra_holds_no_build_or_test_tool() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    local = _installed_by("local", project["optional-dependencies"])

    assert {_name(r) for r in local} & NOT_FOR_RUNNING == set()
    assert not [r for r in local if r.startswith("moto[") and "server" in r]  # moto's every service


def test_make_run_installs_the_local_extra() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    run_setup = makefile[makefile.index("$(VENV)/.run:") : makefile.index("$(VENV)/.dev:")]

    assert "-e '.[local]'" in run_setup
    assert re.search(r"^run: \$\(VENV\)/\.run$", makefile, flags=re.M)
