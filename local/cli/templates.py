"""`jobsched templates`: what a job is made from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from local.cli.bodies import FileOpt, PairsOpt, body
from local.cli.budgets import budget_rows
from local.cli.context import api, fail
from local.cli.exit_codes import ExitCode
from local.cli.output import JsonOpt, OutputOpt, chosen, emit, new_table, rows

if TYPE_CHECKING:
    from jobsched_client.models import TemplateDetailOut, TemplateOut, TemplateVersionOut

app = typer.Typer(
    help="List, show, create, update, archive and restore job templates.", no_args_is_help=True
)

TemplateId = Annotated[str, typer.Argument(help="The template's id, e.g. story_generation.")]


def _table(templates: list[TemplateOut]) -> object:
    table = new_table("template_id", "name", "workload", "version", "archived", "updated")
    return rows(
        table,
        (
            (t.template_id, t.name, t.workload, t.version, t.archived, t.updated_at)
            for t in templates
        ),
    )


def _detail(template: TemplateDetailOut | TemplateVersionOut) -> object:
    table = new_table("field", "value")
    shown = template.model_dump(exclude={"params_schema", "budget_status"})
    rows(table, shown.items())
    props = template.params_schema.get("properties", {})
    if isinstance(props, dict) and props:
        rows(table, [("params", ", ".join(sorted(props)))])
    rows(table, budget_rows(getattr(template, "budget_status", [])))  # a version has none
    return table


@app.command("list")
def list_templates(
    archived: Annotated[bool, typer.Option(help="Show archived templates too.")] = False,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every template (archived ones with --archived)."""
    with api() as client:
        templates = [t for t in client.templates.iter() if archived or not t.archived]
    emit(templates, chosen(output, as_json), lambda: _table(templates))


@app.command("show")
def show(
    template_id: TemplateId,
    version: Annotated[int | None, typer.Option(help="A past version, as it was saved.")] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One template: its fields, defaults, schema and version."""
    with api() as client:
        shown = (
            client.templates.get(template_id)
            if version is None
            else client.templates.version(template_id, version)
        )
    emit(shown, chosen(output, as_json), lambda: _detail(shown))


@app.command("versions")
def versions(template_id: TemplateId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Every saved version of a template, newest first."""
    with api() as client:
        saved = list(client.templates.versions(template_id))
    table = new_table("version", "name", "workload", "saved")
    emit(
        saved,
        chosen(output, as_json),
        lambda: rows(table, ((v.version, v.name, v.workload, v.updated_at) for v in saved)),
    )


@app.command("create")
def create(
    file: FileOpt = None,
    fields: PairsOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A template from a file (-f template.yaml) and/or fields (-s template_id=x -s name=X
    -s workload=echo)."""
    request = body(file, fields)
    if not request:
        fail("give the template with -f FILE and/or -s key=value", ExitCode.USAGE)
    with api() as client:
        created = client.templates.create(request)
    emit(
        created,
        chosen(output, as_json),
        lambda: f"created {created.template_id} (version {created.version})",
    )


@app.command("update")
def update(
    template_id: TemplateId,
    file: FileOpt = None,
    fields: PairsOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields (a new version; jobs already made keep theirs)."""
    patch = body(file, fields)
    if not patch:
        fail("give the changes with -f FILE and/or -s key=value", ExitCode.USAGE)
    with api() as client:
        updated = client.templates.update(template_id, patch)
    emit(
        updated,
        chosen(output, as_json),
        lambda: f"updated {updated.template_id} (version {updated.version})",
    )


@app.command("archive")
def archive(template_id: TemplateId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """No new jobs from it (admin); existing jobs and schedules are kept."""
    with api() as client:
        archived = client.templates.archive(template_id)
    emit(archived, chosen(output, as_json), lambda: f"archived {archived.template_id}")


@app.command("restore")
def restore(template_id: TemplateId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Undo an archive (admin)."""
    with api() as client:
        restored = client.templates.restore(template_id)
    emit(restored, chosen(output, as_json), lambda: f"restored {restored.template_id}")
