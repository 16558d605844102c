"""The `jobsched` command: its root options and every command group."""

from typing import Annotated

import typer

from local.cli import (
    groups,
    jobs,
    keys,
    profiles,
    queue,
    runs,
    runtime_commands,
    schedules,
    status,
    templates,
    usage,
)
from local.cli.context import target

app = typer.Typer(
    name="jobsched",
    help="A job scheduler for long container jobs. Run it here (`jobsched local`), or drive "
    "any deployment: the local runtime is found by itself; else --url/--key, JOBSCHED_URL/"
    "JOBSCHED_API_KEY, or a profile.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    url: Annotated[
        str | None,
        typer.Option(
            help="The deployment's URL (default: JOBSCHED_URL, a profile, or the local runtime's)",
            show_default=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="The API key (prefer JOBSCHED_API_KEY or a profile: a command line shows in `ps`)",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="A profile of the config file (default: JOBSCHED_PROFILE, or its default)",
            show_default=False,
        ),
    ] = None,
) -> None:
    target.url, target.key, target.profile = url, key, profile


app.command("status")(status.status)
app.command("usage")(usage.usage)
app.command("local")(runtime_commands.local)
app.command("seed")(runtime_commands.seed)
app.add_typer(runtime_commands.admin_app, name="admin")
for group, name in (
    (jobs.app, "jobs"),
    (queue.app, "queue"),
    (runs.app, "runs"),
    (schedules.app, "schedules"),
    (templates.app, "templates"),
    (groups.app, "groups"),
    (keys.app, "keys"),
    (profiles.app, "profiles"),
):
    app.add_typer(group, name=name)
