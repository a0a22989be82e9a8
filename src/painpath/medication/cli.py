"""The medicines sub-commands: ``painpath taper``, ``painpath interactions`` and
``painpath medicines``. Results are JSON on stdout; bad input exits 2 with the reason
on stderr."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from painpath.kit.cliutil import emit, fail, fail_from
from painpath.kit.errors import ConfigurationError, InvalidInput
from painpath.medication.domain.interactions import check_interactions
from painpath.medication.domain.knowledge import load_knowledge
from painpath.medication.domain.prescribing import find_medicine
from painpath.medication.domain.schedule import to_dose
from painpath.medication.domain.taper import plan_taper

taper_app = typer.Typer(help="Taper plans built from the whole-capsule strengths available.")
interactions_app = typer.Typer(help="Check a list of medicines for interactions.")
medicines_app = typer.Typer(help="Medicines knowledge, with the source of every fact.")


@taper_app.callback()
def _taper() -> None:
    """Taper plans built from the whole-capsule strengths available."""


@interactions_app.callback()
def _interactions() -> None:
    """Check a list of medicines for interactions."""


@medicines_app.callback()
def _medicines() -> None:
    """Medicines knowledge, with the source of every fact."""


def _whole_weeks(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(
            f"must be a whole number of weeks; got {text!r}", field="weeks"
        ) from None


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"must be a date as YYYY-MM-DD; got {text!r}", field=field) from None


@taper_app.command("plan")
def taper_plan(
    medicine: Annotated[str, typer.Option("--medicine", help="Medicine name, alias or brand.")],
    dose_mg: Annotated[str, typer.Option("--dose-mg", help="Current daily dose in mg.")],
    weeks: Annotated[str, typer.Option("--weeks", help="Weeks to reduce over (at least 1).")],
    start: Annotated[str, typer.Option("--start", help="First day of the taper, YYYY-MM-DD.")],
) -> None:
    """Plan a taper from the current daily dose down to 0 mg."""
    try:
        dose = to_dose(dose_mg, "dose_mg")
        plan = plan_taper(medicine, dose, _whole_weeks(weeks), _date(start, "start"))
    except InvalidInput as exc:
        fail_from(exc)
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    emit(plan.to_dict())


@interactions_app.command("check")
def interactions_check(
    drugs: Annotated[list[str], typer.Argument(help="Two or more medicine names.")],
) -> None:
    """List the interactions between the given medicines, most severe first."""
    try:
        result = check_interactions(drugs)
    except InvalidInput as exc:
        fail_from(exc)
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    emit(result.to_dict())


@medicines_app.command("list")
def medicines_list() -> None:
    """The medicines PainPath knows, and whether their knowledge is compiled."""
    try:
        knowledge = load_knowledge()
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    emit(
        [
            {
                "name": m.name,
                "display_name": m.display_name,
                "status": m.status,
                "drug_class": m.drug_class,
                "aliases": list(m.aliases),
                "brand_names": list(m.brand_names),
                "atc_code": m.atc_code.value if m.atc_code else None,
                "strengths_mg": list(m.whole_strengths_mg),
            }
            for m in knowledge.medicines
        ]
    )


@medicines_app.command("show")
def medicines_show(
    name: Annotated[str, typer.Argument(help="Medicine name, alias or brand.")],
) -> None:
    """Everything PainPath knows about one medicine, each fact with its source."""
    try:
        medicine = find_medicine(name, load_knowledge())
    except InvalidInput as exc:
        fail_from(exc)
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    emit(medicine.to_dict())
