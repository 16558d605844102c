"""`jobsched profiles`: the config file's profiles, never a secret printed, the file written
for its owner only. Nothing here calls a deployment (`add --no-check`; the check is in
tests/integration/cli/test_keys.py)."""

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from jobsched_client.config import ConfigError, Profile, load_config, profiles, save_profile
from local.cli import app, context
from local.cli import profiles as profiles_cli
from local.cli.exit_codes import ExitCode

PROD = "jsk_prod1_s3cretprod"
STAGING = "jsk_stag1_s3cretstaging"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    for name in ("JOBSCHED_URL", "JOBSCHED_API_KEY", "JOBSCHED_PROFILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBSCHED_CONFIG", str(path))
    monkeypatch.setenv("JOBSCHED_DATA_DIR", str(tmp_path / "data"))  # no local runtime there
    # The root options set the one Target app.py imported: reset it, never replace it.
    for option in ("url", "key", "profile"):
        monkeypatch.setattr(context.target, option, None)
    return path


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def add(name: str, key: str, *more: str) -> Result:
    url = f"https://{name}.example.com"
    return run("profiles", "add", name, "--url", url, "--key", key, "--no-check", *more)


def test_add_writes_the_file_for_its_owner_only(config: Path) -> None:
    added = add("prod", PROD)

    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "added prod: https://prod.example.com, key prod1"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert profiles(config) == ({"prod": Profile("prod", "https://prod.example.com", PROD)}, None)


def test_list_names_each_keys_id_never_its_secret(config: Path) -> None:
    add("prod", PROD, "--default")
    add("staging", STAGING)

    table = run("profiles", "list")
    listed = json.loads(run("profiles", "list", "--json").stdout)

    assert table.exit_code == 0, table.output
    assert "prod1" in table.stdout
    assert "https://staging.example.com" in table.stdout
    assert listed == [
        {"name": "prod", "url": "https://prod.example.com", "key_id": "prod1", "default": True},
        {
            "name": "staging",
            "url": "https://staging.example.com",
            "key_id": "stag1",
            "default": False,
        },
    ]
    for printed in (table.stdout + table.stderr, json.dumps(listed)):
        assert PROD not in printed
        assert "s3cret" not in printed


def test_list_without_profiles_says_where_it_looked(config: Path) -> None:
    empty = run("profiles", "list")

    assert empty.exit_code == 0
    assert empty.stdout == ""
    assert str(config) in empty.stderr
    assert json.loads(run("profiles", "list", "--json").stdout) == []


def test_use_makes_a_profile_the_default_and_remove_forgets_it(config: Path) -> None:
    add("prod", PROD)
    add("staging", STAGING, "--default")

    used = run("profiles", "use", "prod")
    assert used.exit_code == 0, used.output
    assert profiles(config)[1] == "prod"

    removed = run("profiles", "remove", "prod")
    assert removed.exit_code == 0, removed.output
    assert "there is none now" in removed.stdout
    assert profiles(config) == (
        {"staging": Profile("staging", "https://staging.example.com", STAGING)},
        None,
    )
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_an_unknown_profile_is_not_found(config: Path) -> None:
    add("prod", PROD)

    for command in ("use", "remove"):
        missing = run("profiles", command, "nope")
        assert missing.exit_code == ExitCode.NOT_FOUND
        assert len(missing.stderr.strip().splitlines()) == 1
        assert "no profile nope" in missing.stderr


def test_show_says_which_deployment_and_key_and_where_they_were_found(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add("prod", PROD, "--default")
    add("staging", STAGING)

    by_default = json.loads(run("profiles", "show", "--json").stdout)
    assert by_default == {
        "url": "https://prod.example.com",
        "key_id": "prod1",
        "source": "profile prod",
    }
    named = json.loads(run("--profile", "staging", "profiles", "show", "--json").stdout)
    assert (named["key_id"], named["source"]) == ("stag1", "profile staging")

    monkeypatch.setenv("JOBSCHED_API_KEY", "jsk_env1_fromtheenvironment")
    table = run("profiles", "show")
    assert table.exit_code == 0, table.output
    assert "profile prod, key from JOBSCHED_API_KEY" in table.stdout
    assert "env1" in table.stdout
    assert "fromtheenvironment" not in table.stdout
    assert PROD not in table.stdout


def test_show_without_a_deployment_fails_with_its_exit_code(config: Path) -> None:
    nothing = run("profiles", "show")

    assert nothing.exit_code == ExitCode.NO_DEPLOYMENT
    assert nothing.stderr.startswith("error: no deployment")


def test_add_reads_the_key_from_a_file_or_from_stdin(config: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "prod.key"
    key_file.write_text(PROD + "\n")
    url = "https://prod.example.com"

    from_file = run(
        "profiles", "add", "prod", "--url", url, "--key-file", str(key_file), "--no-check"
    )
    piped = run("profiles", "add", "staging", "--url", url, "--no-check", input=STAGING + "\n")

    assert from_file.exit_code == piped.exit_code == 0, from_file.output + piped.output
    known, _ = profiles(config)
    assert (known["prod"].key, known["staging"].key) == (PROD, STAGING)


def test_add_prompts_for_a_hidden_key_at_a_terminal(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiles_cli, "interactive", lambda: True)

    added = run(
        "profiles",
        "add",
        "prod",
        "--url",
        "https://prod.example.com",
        "--no-check",
        input=PROD + "\n",
    )

    assert added.exit_code == 0, added.output
    assert "API key" in added.stderr
    assert PROD not in added.stdout + added.stderr  # not echoed
    assert profiles(config)[0]["prod"].key == PROD


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "not-a-key"], "jsk_<id>_<secret>"),
        (["--key", PROD, "--key-file", "k"], "not both"),
        (["--key", PROD, "--url", "ftp://x"], "http:// or https://"),
    ],
)
def test_add_refuses_bad_input_before_writing(config: Path, args: list[str], message: str) -> None:
    url = ["--url", "https://prod.example.com"] if "--url" not in args else []
    refused = run("profiles", "add", "prod", *url, *args, "--no-check")

    assert refused.exit_code == ExitCode.USAGE
    assert message in refused.stderr
    assert not config.exists()


def test_add_refuses_a_bad_name(config: Path) -> None:
    refused = add("no/such", PROD)

    assert refused.exit_code == ExitCode.USAGE
    assert "profile name" in refused.stderr


def test_a_config_file_others_can_read_is_refused(config: Path) -> None:
    add("prod", PROD)
    os.chmod(config, 0o644)

    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(config)
    with pytest.raises(ConfigError, match="others can read it"):
        save_profile(config, Profile("staging", "https://s.example.com", STAGING))
    listed = run("profiles", "list")
    assert listed.exit_code == ExitCode.ERROR
    assert "chmod 600" in listed.stderr
    shown = run("profiles", "show")
    assert shown.exit_code == ExitCode.NO_DEPLOYMENT
    assert "chmod 600" in shown.stderr


def test_replacing_a_profile_keeps_the_file_owner_only_even_if_a_temporary_was_left(
    config: Path,
) -> None:
    add("prod", PROD)
    leftover = config.with_name(config.name + ".tmp")
    leftover.write_text("junk")
    os.chmod(leftover, 0o666)

    add("prod", STAGING)

    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert profiles(config)[0]["prod"].key == STAGING
    assert not leftover.exists()
