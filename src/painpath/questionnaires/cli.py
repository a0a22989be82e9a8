"""``painpath instruments``: questionnaire definitions and scoring as JSON."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from painpath.kit.cliutil import emit, fail_from
from painpath.kit.errors import PainPathError
from painpath.questionnaires.domain import advice_for, get_instrument, load_instruments, score

app = typer.Typer(
    help=(
        "Questionnaire instruments (pain NRS, PEG, RMDQ, PHQ-9, GAD-7, PGIC, STarT Back, "
        "sleep, red-flag screen): list them, show a definition, score a set of answers."
    ),
    no_args_is_help=True,
)

_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


def parse_answers(text: str) -> list[object]:
    """Split ``a,b,c`` into answers: whole numbers as ints, an empty place as ``None``
    (a missing answer) and anything else as the text given, for the scorer to reject."""
    if not text.strip():
        return []
    answers: list[object] = []
    for token in (part.strip() for part in text.split(",")):
        if not token:
            answers.append(None)
        elif _WHOLE_NUMBER.fullmatch(token):
            answers.append(int(token))
        else:
            answers.append(token)
    return answers


@app.command("list")
def list_instruments() -> None:
    """List the instruments: code, name, version, number of items and source."""
    emit([instrument.summary() for instrument in load_instruments().values()])


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Instrument code, e.g. phq9 (see `list`).")],
) -> None:
    """Show an instrument's full definition: items, answers, scoring, sources, licence."""
    try:
        instrument = get_instrument(code)
    except PainPathError as error:
        fail_from(error)
    emit(instrument.definition())


@app.command("score")
def score_answers(
    code: Annotated[str, typer.Argument(help="Instrument code, e.g. phq9 (see `list`).")],
    answers: Annotated[
        str,
        typer.Option(
            "--answers",
            help="One whole number per item, in item order, separated by commas: 0,1,2,...",
        ),
    ],
) -> None:
    """Score answers: {"instrument", "total", "band", "subscales", "flags"}, plus
    "advice" (what the patient must be shown at once) when a flag is raised."""
    try:
        result = score(code, parse_answers(answers))
    except PainPathError as error:
        fail_from(error)
    payload = result.to_dict()
    if result.flags:
        payload["advice"] = [advice.to_dict() for advice in advice_for(result)]
    emit(payload)
