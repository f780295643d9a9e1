"""`flask flows check`, `flask flows diagram` and `flask purge` (retention.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from flask import Flask, current_app
from flask.cli import AppGroup

from assistant.engine import changes
from assistant.engine.machine import ENDS, STOPS, FlowEngine
from assistant.content import regions
from assistant.content.flows import Flow, FlowError, load_flows
from assistant.content.translations import Languages, frame, load_catalogue
from assistant.store.retention import purge_command

flows_cli = AppGroup("flows", help="Check and draw the conversation flows.")


def graph_problems(engine: FlowEngine) -> list[str]:
    """Every state reachable from the start; from every state an end is reachable."""
    flow = engine.flow
    targets: dict[str, set[str]] = {}
    for source, dest, _ in engine.edges():
        if flow.has_question(dest) and not all(c.satisfiable(flow.question(c.question))
                                               for c in flow.question(dest).enable_when):
            continue  # an enableWhen no answer can satisfy: this edge is never taken
        targets.setdefault(source, set()).add(dest)
    states = [q.id for q in engine.flow.questions] + list(ENDS)
    seen, todo = {engine.flow.start}, [engine.flow.start]
    while todo:
        for dest in targets.get(todo.pop(), ()):
            if dest not in seen:
                seen.add(dest)
                todo.append(dest)
    problems = [f"state '{s}' cannot be reached from the start" for s in states
                if s not in seen and s not in STOPS]
    for state in states:
        if state in ENDS:
            continue
        reach, todo = set(), [state]
        while todo:
            for dest in targets.get(todo.pop(), ()):
                if dest not in reach:
                    reach.add(dest)
                    todo.append(dest)
        if not reach & set(ENDS):
            problems.append(f"no path from '{state}' reaches an end")
    return problems


def contract_problems(flow: Flow) -> list[str]:
    """Every id of the public contract (flows/<id>/contract.yaml) must exist in the flow and its content."""
    contract = flow.contract
    if not contract:
        return [f"flow '{flow.id}' has no contract.yaml"]
    problems = []
    for question_id, values in contract.get("questions", {}).items():
        if not flow.has_question(question_id):
            problems.append(f"question '{question_id}' is missing")
            continue
        missing = [v for v in values if v not in flow.question(question_id).values]
        if missing:
            problems.append(f"question '{question_id}' lacks value(s) {', '.join(missing)}")
    for kind, question_ids in contract.get("question_types", {}).items():
        for question_id in question_ids:
            if flow.has_question(question_id) and flow.question(question_id).type != kind:
                problems.append(f"question '{question_id}' must be of type {kind}")
    have = {"conditions": {c.id for c in flow.conditions}, "lifestyle": {c.id for c in flow.lifestyle}}
    for kind, ids in have.items():
        problems += [f"{kind} card '{i}' is missing" for i in contract.get(kind, []) if i not in ids]
    stops = {s.status for s in flow.stops}
    problems += [f"no stop ends with status '{s}'" for s in contract.get("statuses", []) if s not in stops]
    return problems


def version_problems(older: Flow, newer: Flow) -> list[str]:
    """A later version only adds: every question and value of the older one is still there, with the same type."""
    problems = []
    for question in older.questions:
        if not newer.has_question(question.id):
            problems.append(f"question '{question.id}' of version {older.version} is missing")
            continue
        kept = newer.question(question.id)
        if kept.type != question.type:
            problems.append(f"question '{question.id}' changed type from {question.type} to {kept.type}")
        missing = [v for v in question.values if v not in kept.values]
        if missing:
            problems.append(f"question '{question.id}' lost value(s) {', '.join(missing)} of version "
                            f"{older.version}")
    return problems


def check_folder(folder: Path) -> list[str]:
    try:
        flows = load_flows(folder)
    except FlowError as err:
        return [str(err)]
    problems = []
    for (flow_id, version), flow in flows.items():
        where = f"{flow_id} v{version}"
        problems += [f"{where}: {p}" for p in graph_problems(FlowEngine(flow)) + contract_problems(flow)]
        older = flows.get((flow_id, version - 1))
        if older is not None:
            problems += [f"{where}: {p}" for p in version_problems(older, flow)]
    if not flows:
        problems.append(f"no flow files in {folder}")
    return problems + translation_problems(flows, folder)


def translation_problems(flows: dict, folder: Path) -> list[str]:
    """Every text without a translation, and every translation whose English changed since (stale), per language."""
    try:
        languages = Languages(flows, folder)
    except FlowError as err:
        return [str(err)]
    problems = []
    for (flow_id, version, language), (missing, stale) in languages.problems.items():
        where = f"{flow_id} v{version} [{language}]"
        problems += [f"{where}: no translation for {item}" for item in missing]
        problems += [f"{where}: stale translation (the English changed since) of {item}" for item in stale]
    for flow_id, language in sorted({(f, lang) for f, _, lang in languages.problems}):
        problems += [f"{flow_id} [{language}]: stale translation (its English is gone) of {item}"
                     for item in languages.unused(flow_id, language)]
    return problems


def missing_clinical_terms(folder: Path) -> list[str]:
    """Answer values the clinician's handout prints with the patient's label, for want of a clinical term."""
    try:
        flows = load_flows(folder)
    except FlowError:
        return []  # check_folder reports it
    return [f"{flow_id} v{version}: no clinical term for {', '.join(missing)} "
            f"(flows/{flow_id}/clinical_terms.yaml)"
            for (flow_id, version), flow in flows.items() if (missing := flow.clinical.missing(worded(flow)))]


def worded(flow: Flow) -> list:
    """Questions whose answers need clinical words: a number on a scale, or a lifestyle area, says itself."""
    return [q for q in flow.questions if q.id not in flow.scores and not q.personal]


@flows_cli.command("translate")
@click.argument("language")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of flow files (default: the app's FLOWS_DIR).")
def translate_command(language: str, folder: Path | None) -> None:
    """Write or update flows/<flow>/<LANGUAGE>.yaml: every text with its English; new or changed ones left empty."""
    folder = folder or Path(current_app.config["FLOWS_DIR"])
    flows = load_flows(folder)
    for flow_id in sorted({flow_id for flow_id, _ in flows}):
        path = folder / flow_id / f"{language}.yaml"
        old = load_catalogue(path) if path.exists() else None
        versions = [flows[key] for key in sorted(flows) if key[0] == flow_id]
        tree = frame(versions, old, language, phrases=tuple(changes.TEXTS.values()) + regions.PHRASES)
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
        empty = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.rstrip().endswith(("''", ": ''")))
        click.echo(f"Wrote {path} ({empty} texts to translate)")


@flows_cli.command("check")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of flow files (default: the app's FLOWS_DIR).")
def check_command(folder: Path | None) -> None:
    """Validate every flow: schema, ids, reachability, ends, and the public contract."""
    folder = folder or Path(current_app.config["FLOWS_DIR"])
    problems = check_folder(folder)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    for note in missing_clinical_terms(folder):  # the handout still prints; worth fixing, not worth failing
        click.echo(f"note: {note}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"All flows in {folder} are valid.")


def mermaid(engine: FlowEngine) -> str:
    lines = ["flowchart TD"]
    for question in engine.flow.questions:
        lines.append(f'    {question.id}["{question.text.replace(chr(34), chr(39))}"]')
    lines.append('    finished(["Result"])')
    lines.append('    stopped_emergency{{"Emergency: stop and call for help"}}')
    if engine.flow.stops:
        lines.append('    stopped_not_adult{{"Not an adult: stop, say where to get help"}}')
    for source, dest, label in engine.edges():
        arrow = "-.->" if dest in STOPS else "-->"
        lines.append(f"    {source} {arrow}|{label}| {dest}" if label else f"    {source} {arrow} {dest}")
    return "\n".join(lines) + "\n"


@flows_cli.command("diagram")
@click.argument("flow_id", default="muscle-pain")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Mermaid diagram to this file instead of standard output.")
def diagram_command(flow_id: str, output: Path | None) -> None:
    """Write a Mermaid diagram of a flow."""
    engine = current_app.extensions["engines"].get(flow_id)
    if engine is None:
        raise click.ClickException(f"no flow called '{flow_id}'")
    text = mermaid(engine)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(flows_cli)
    app.cli.add_command(purge_command)
