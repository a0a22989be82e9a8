"""Questionnaire instruments: definitions as data, scoring, and the advice a flag needs.

The definitions live in ``instruments/*.json`` next to this module, one file per
instrument, each with its source, licence note and verification status (the labels
of ``clinical/reference.md``: ``V`` verified, ``P`` partly verified, ``U`` unverified;
``design`` marks a PainPath rule built from verified rows, ``product`` PainPath's own
wording). ``load_instruments`` reads and validates them; ``score`` turns a list of
answers (one per item, in item order) into a :class:`Score`; ``advice_for`` gives the
signposting a patient must see at once when a score raises a flag.

Pure: standard library only; no database, web, clock or randomness.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from math import floor
from types import MappingProxyType
from typing import Any, Literal, NoReturn, cast

from painpath.kit.errors import InvalidInput, Problem

Status = Literal["V", "P", "U", "design", "product"]
STATUSES: frozenset[str] = frozenset({"V", "P", "U", "design", "product"})

ScoringMethod = Literal["sum", "mean", "item"]
SubscaleMethod = Literal["sum", "mean", "count"]
ConditionKind = Literal["total", "subscale", "any_item", "flag"]

SELF_HARM = "self-harm"
RED_FLAG = "red-flag"
CAUDA_EQUINA = "cauda-equina"


class InstrumentDefinitionError(ValueError):
    """An instrument file is malformed; names the file and the field."""

    def __init__(self, file: str, field: str, reason: str) -> None:
        super().__init__(f"{file}: {field}: {reason}")
        self.file = file
        self.field = field
        self.reason = reason


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Citation:
    """Where a definition or rule comes from, with its verification status."""

    citation: str
    status: str
    reference: str | None = None


@dataclass(frozen=True)
class Licence:
    note: str
    status: str


@dataclass(frozen=True)
class Code:
    """A LOINC code (``role``: panel, total, item, subscale, ...)."""

    code: str
    display: str
    role: str
    status: str


@dataclass(frozen=True)
class OptionSet:
    """The allowed answers of an item: each value with its label ('' if unlabelled)."""

    name: str
    options: tuple[tuple[int, str], ...]
    is_scale: bool

    @property
    def values(self) -> frozenset[int]:
        return frozenset(value for value, _ in self.options)

    def label(self, value: int) -> str:
        return dict(self.options).get(value, "")

    def describe(self) -> str:
        """The allowed values in words, for error messages."""
        if self.is_scale:
            low, low_label = self.options[0]
            high, high_label = self.options[-1]
            low_text = f"{low} ({low_label})" if low_label else str(low)
            high_text = f"{high} ({high_label})" if high_label else str(high)
            return f"a whole number from {low_text} to {high_text}"
        return ", ".join(f"{value} ({label})" for value, label in self.options)


@dataclass(frozen=True)
class Item:
    number: int
    id: str
    label: str
    text: str | None
    text_status: str | None
    wording_restricted: bool
    options: OptionSet
    scores: Mapping[int, int]
    loinc: Code | None = None
    note: str | None = None

    def score(self, value: int) -> int:
        return self.scores[value]

    @property
    def min_score(self) -> int:
        return min(self.scores.values())

    @property
    def max_score(self) -> int:
        return max(self.scores.values())


@dataclass(frozen=True)
class Condition:
    """When a band or flag applies: a total, subscale or item answer within
    ``[minimum, maximum]`` (either end open when ``None``), or another flag raised."""

    on: ConditionKind
    minimum: float | None = None
    maximum: float | None = None
    subscale: str | None = None
    items: tuple[int, ...] = ()
    flag: str | None = None

    def holds(
        self,
        total: float,
        subscales: Mapping[str, float],
        answers: Sequence[int],
        flags: Iterable[str],
    ) -> bool:
        if self.on == "flag":
            return self.flag in set(flags)
        if self.on == "total":
            return self._within(total)
        if self.on == "subscale":
            return self._within(subscales[cast(str, self.subscale)])
        return any(self._within(answers[number - 1]) for number in self.items)

    def _within(self, value: float) -> bool:
        if self.minimum is not None and value < self.minimum:
            return False
        return self.maximum is None or value <= self.maximum


@dataclass(frozen=True)
class Subscale:
    code: str
    label: str
    method: SubscaleMethod
    items: tuple[int, ...]
    values: tuple[int, ...] = ()
    decimals: int = 1
    loinc: Code | None = None


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    when: Condition | None
    loinc_answer: str | None = None


@dataclass(frozen=True)
class FlagRule:
    code: str
    description: str
    when: Condition


@dataclass(frozen=True)
class ImportantChange:
    description: str
    direction: str
    source: str
    status: str
    points: float | None = None
    percent: float | None = None


@dataclass(frozen=True)
class Scoring:
    method: ScoringMethod
    minimum: int | float
    maximum: int | float
    description: str
    item: int | None = None
    decimals: int = 1
    subscales: tuple[Subscale, ...] = ()
    bands: tuple[Band, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    important_change: tuple[ImportantChange, ...] = ()


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    description: str
    source: Citation
    licence: Licence
    items: tuple[Item, ...]
    scoring: Scoring
    recall_period: str | None = None
    stem: str | None = None
    loinc: tuple[Code, ...] = ()
    notes: tuple[str, ...] = ()
    definition_json: str = "{}"

    def definition(self) -> dict[str, Any]:
        """The full definition as stored in its data file (a fresh copy)."""
        return cast(dict[str, Any], json.loads(self.definition_json))

    def summary(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "version": self.version,
            "items": len(self.items),
            "source": self.source.citation,
        }


@dataclass(frozen=True)
class Score:
    """The result of scoring one set of answers."""

    instrument: str
    total: int | float
    band: str | None
    subscales: dict[str, int | float]
    flags: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "subscales": dict(self.subscales),
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class Advice:
    """What a patient must be shown at once for a flag, and where it comes from."""

    flag: str
    urgency: Literal["emergency", "crisis", "urgent"]
    title: str
    text: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "urgency": self.urgency,
            "title": self.title,
            "text": self.text,
            "sources": list(self.sources),
        }


# --------------------------------------------------------------------------- advice

SELF_HARM_ADVICE = Advice(
    flag=SELF_HARM,
    urgency="crisis",
    title="Get help now if you are thinking of ending your life or hurting yourself",
    text=(
        "You told us you have had thoughts that you would be better off dead, or of "
        "hurting yourself. Please get help today: do not wait for your next appointment. "
        "If you are in immediate danger, or feel you might act on these thoughts, call 999 "
        "or go to A&E now. For urgent help today, call NHS 111. You can also talk to "
        "Samaritans free on 116 123."
    ),
    sources=(
        "clinical/reference.md §1.7, suicidal thoughts / self-harm: same-day urgent help "
        "(emergency services / A&E / crisis line) and alert the clinician [V] (duloxetine "
        "PIL, emc; HeadMeds: 'go straight to hospital')",
        "clinical/reference.md §3.2, PHQ-9 item 9 follow-up: any item-9 score of 1 or more "
        "needs same-day follow-up and a clinician alert; crisis instructions 999 / A&E / "
        "NHS 111 (the NHS 111 mental-health option number is [U] and is not stated)",
        "Samaritans, 'Contact a Samaritan' (samaritans.org/how-we-can-help/contact-samaritan/): "
        "116 123 is free to call from landlines and mobiles (not yet in clinical/reference.md)",
    ),
)

CAUDA_EQUINA_ADVICE = Advice(
    flag=CAUDA_EQUINA,
    urgency="emergency",
    title="Possible cauda equina syndrome: go to A&E now or call 999",
    text=(
        "Some of your answers can be signs of cauda equina syndrome, a serious problem "
        "with the nerves at the bottom of the spine that needs to be checked in hospital "
        "within hours. Go to A&E now, or call 999. Tell them you have back pain and "
        '"possible cauda equina syndrome". Do not wait to see if it gets better, and do '
        "not put a new problem passing urine, with your bowels or with your sex life down "
        "to a side effect of your medicine."
    ),
    sources=(
        "clinical/reference.md §2.5, software rule 1: any cauda equina red flag → "
        "emergency instruction (A&E now / 999; 'possible cauda equina') and notify the "
        "clinician",
        "NICE CKS Sciatica (lumbar radiculopathy), 2018: cauda equina syndrome usually "
        "warrants immediate admission [V]; BMJ Best Practice (SBNS/BASS 2018, GIRFT): "
        "immediate referral to hospital, to be seen within hours [V] (reference.md §2.5)",
        "clinical/reference.md §2.5 rule 2 and §1.7: never explain away a new urinary or "
        "sexual symptom as a duloxetine side effect in a back-pain patient",
    ),
)

RED_FLAG_ADVICE = Advice(
    flag=RED_FLAG,
    urgency="urgent",
    title="Your answers need a doctor to check them soon",
    text=(
        "Some of your answers can be signs of a serious cause of back pain, such as an "
        "infection, a broken bone or cancer, that a doctor needs to check. Contact your GP "
        "practice as soon as you can, do not wait for your next planned review, and tell "
        "them which answers you gave. If you cannot reach your GP practice, call NHS 111."
    ),
    sources=(
        "clinical/reference.md §2.5, other red flags (cancer, infection, fracture) [V] "
        "(NHS Gloucestershire G-Care back-pain pathway, CKS-derived)",
        "NICE CKS Sciatica: red flags must be asked about explicitly; referral within a few "
        "days might be appropriate for suspected cancer secondaries in the spine [V] "
        "(reference.md §2.5)",
    ),
)

FLAG_ADVICE: Mapping[str, Advice] = MappingProxyType(
    {SELF_HARM: SELF_HARM_ADVICE, CAUDA_EQUINA: CAUDA_EQUINA_ADVICE, RED_FLAG: RED_FLAG_ADVICE}
)


def advice_for(score: Score) -> list[Advice]:
    """The signposting the patient must see at once for the score's flags, most urgent
    first. Cauda equina advice replaces the general red-flag advice (A&E covers both)."""
    advice: list[Advice] = []
    if SELF_HARM in score.flags:
        advice.append(SELF_HARM_ADVICE)
    if CAUDA_EQUINA in score.flags:
        advice.insert(0, CAUDA_EQUINA_ADVICE)
    elif RED_FLAG in score.flags:
        advice.append(RED_FLAG_ADVICE)
    return advice


# --------------------------------------------------------------------------- scoring


def _round_half_up(value: Fraction, decimals: int) -> float:
    scale: int = 10**decimals
    return floor(value * scale + Fraction(1, 2)) / scale


def _aggregate(method: str, scores: Sequence[int], decimals: int) -> int | float:
    if method == "mean":
        return _round_half_up(Fraction(sum(scores), len(scores)), decimals)
    return sum(scores)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problems(instrument: Instrument, answers: Sequence[object]) -> list[Problem]:
    problems: list[Problem] = []
    expected = len(instrument.items)
    if isinstance(answers, (str, bytes)):
        message = f"expected a list of {expected} whole numbers, one per item in item order"
        return [Problem(field="answers", message=message)]
    if len(answers) != expected:
        if len(answers) < expected:
            missing = instrument.items[len(answers)]
            detail = f"the first one missing is item {missing.number} ({missing.label})"
        else:
            detail = f"there are only {expected} items"
        problems.append(
            Problem(
                field="answers",
                message=(
                    f"{instrument.name} needs {expected} answers, one per item in item "
                    f"order; {len(answers)} were given ({detail})"
                ),
            )
        )
    for index, (item, value) in enumerate(zip(instrument.items, answers, strict=False)):
        where = f"item {item.number} ({item.label})"
        allowed = f"allowed values: {item.options.describe()}"
        if value is None or value == "":
            message = f"{where} has no answer; {allowed}"
        elif not _is_int(value):
            message = f"{where}: {value!r} is not a whole number; {allowed}"
        elif cast(int, value) not in item.options.values:
            message = f"{where}: {value} is not an allowed answer; {allowed}"
        else:
            continue
        problems.append(Problem(field=f"answers[{index}]", message=message))
    return problems


def score_instrument(instrument: Instrument, answers: Sequence[object]) -> Score:
    """Score answers (one per item, in item order) for a loaded instrument."""
    problems = _problems(instrument, answers)
    if problems:
        raise InvalidInput(f"The answers to {instrument.name} cannot be scored", problems)
    values = [cast(int, value) for value in answers]
    item_scores = [item.score(value) for item, value in zip(instrument.items, values, strict=True)]
    scoring = instrument.scoring

    total: int | float
    if scoring.method == "item":
        total = item_scores[cast(int, scoring.item) - 1]
    else:
        total = _aggregate(scoring.method, item_scores, scoring.decimals)

    subscales: dict[str, int | float] = {}
    for subscale in scoring.subscales:
        if subscale.method == "count":
            chosen = set(subscale.values)
            subscales[subscale.code] = sum(1 for n in subscale.items if values[n - 1] in chosen)
        else:
            picked = [item_scores[n - 1] for n in subscale.items]
            subscales[subscale.code] = _aggregate(subscale.method, picked, subscale.decimals)

    flags: list[str] = []
    for rule in scoring.flags:
        if rule.when.holds(total, subscales, values, flags):
            flags.append(rule.code)

    band: str | None = None
    for candidate in scoring.bands:
        if candidate.when is None or candidate.when.holds(total, subscales, values, flags):
            band = candidate.code
            break
    if scoring.bands and band is None:  # load-time checks make this unreachable
        raise AssertionError(f"{instrument.code}: no band matched total {total}")

    return Score(
        instrument=instrument.code, total=total, band=band, subscales=subscales, flags=flags
    )


def get_instrument(code: str) -> Instrument:
    """The instrument with this code; an unknown code is :class:`InvalidInput`."""
    instruments = load_instruments()
    if code not in instruments:
        known = ", ".join(instruments)
        raise InvalidInput(
            f"unknown instrument {code!r}; known instruments: {known}", field="instrument"
        )
    return instruments[code]


def score(code: str, answers: Sequence[object]) -> Score:
    """Score ``answers`` (one whole number per item, in item order) for instrument ``code``.

    Raises :class:`InvalidInput` for an unknown code, a wrong number of answers, or an
    answer that is missing, not a whole number or not one of the item's allowed values;
    each problem names the 1-based item, its label and the allowed values.
    """
    return score_instrument(get_instrument(code), answers)


# --------------------------------------------------------------------------- loading


@cache
def load_instruments() -> Mapping[str, Instrument]:
    """All packaged instruments by code, read and validated once."""
    folder = resources.files("painpath.questionnaires").joinpath("instruments")
    return load_instruments_from(folder)


def load_instruments_from(folder: Traversable) -> Mapping[str, Instrument]:
    """Read and validate every ``*.json`` instrument file in ``folder``."""
    found: dict[str, Instrument] = {}
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    for entry in files:
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InstrumentDefinitionError(
                entry.name, "(file)", f"not valid JSON: {error}"
            ) from error
        instrument = parse_instrument(data, entry.name)
        if entry.name != f"{instrument.code}.json":
            raise InstrumentDefinitionError(
                entry.name, "code", f"{instrument.code!r} does not match the file name"
            )
        found[instrument.code] = instrument
    if not found:
        raise InstrumentDefinitionError(str(folder), "(folder)", "no instrument files found")
    return MappingProxyType(found)


class _Reader:
    """Typed access to one JSON definition that names the file and field on failure."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, reason: str) -> NoReturn:
        raise InstrumentDefinitionError(self.file, path, reason)

    def obj(
        self, value: object, path: str, required: set[str], optional: set[str]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "expected an object")
        for key in sorted(required - value.keys()):
            self.fail(_join(path, key), "missing")
        for key in sorted(value.keys() - required - optional):
            self.fail(_join(path, key), "unknown field")
        return cast(dict[str, Any], value)

    def text(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "expected a non-empty string")
        return value

    def opt_text(self, value: object, path: str) -> str | None:
        return None if value is None else self.text(value, path)

    def integer(self, value: object, path: str) -> int:
        if not _is_int(value):
            self.fail(path, "expected a whole number")
        return cast(int, value)

    def number(self, value: object, path: str) -> int | float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.fail(path, "expected a number")
        return value

    def opt_number(self, value: object, path: str) -> int | float | None:
        return None if value is None else self.number(value, path)

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, "expected true or false")
        return value

    def array(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, "expected a list")
        return value

    def status(self, value: object, path: str) -> str:
        if value not in STATUSES:
            self.fail(path, f"expected one of {', '.join(sorted(STATUSES))}")
        return value

    def choice(self, value: object, path: str, allowed: Sequence[str]) -> str:
        if value not in allowed:
            self.fail(path, f"expected one of {', '.join(allowed)}")
        return cast(str, value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_instrument(data: object, file: str) -> Instrument:
    """Validate one instrument definition (parsed JSON) and build the model.

    Raises :class:`InstrumentDefinitionError` naming ``file`` and the field at fault.
    """
    r = _Reader(file)
    top = r.obj(
        data,
        "",
        {
            "code",
            "name",
            "version",
            "description",
            "source",
            "licence",
            "option_sets",
            "items",
            "scoring",
        },
        {"recall_period", "stem", "stem_status", "loinc", "notes"},
    )
    code = r.text(top["code"], "code")
    stem = r.opt_text(top.get("stem"), "stem")
    if stem is not None:
        r.status(top.get("stem_status"), "stem_status")

    src = r.obj(top["source"], "source", {"citation", "status"}, {"reference"})
    source = Citation(
        citation=r.text(src["citation"], "source.citation"),
        status=r.status(src["status"], "source.status"),
        reference=r.opt_text(src.get("reference"), "source.reference"),
    )
    lic = r.obj(top["licence"], "licence", {"note", "status"}, set())
    licence = Licence(
        note=r.text(lic["note"], "licence.note"), status=r.status(lic["status"], "licence.status")
    )
    loinc = tuple(
        _parse_code(r, entry, f"loinc[{i}]")
        for i, entry in enumerate(r.array(top.get("loinc", []), "loinc"))
    )
    notes = tuple(
        r.text(note, f"notes[{i}]") for i, note in enumerate(r.array(top.get("notes", []), "notes"))
    )

    option_sets = _parse_option_sets(r, top["option_sets"])
    raw_items = r.array(top["items"], "items")
    if not raw_items:
        r.fail("items", "expected at least one item")
    items = tuple(
        _parse_item(r, raw, f"items[{i}]", i + 1, option_sets) for i, raw in enumerate(raw_items)
    )
    ids = [item.id for item in items]
    for i, item_id in enumerate(ids):
        if ids.index(item_id) != i:
            r.fail(f"items[{i}].id", f"duplicate item id {item_id!r}")

    scoring = _parse_scoring(r, top["scoring"], items)
    return Instrument(
        code=code,
        name=r.text(top["name"], "name"),
        version=r.text(top["version"], "version"),
        description=r.text(top["description"], "description"),
        source=source,
        licence=licence,
        items=items,
        scoring=scoring,
        recall_period=r.opt_text(top.get("recall_period"), "recall_period"),
        stem=stem,
        loinc=loinc,
        notes=notes,
        definition_json=json.dumps(data, ensure_ascii=False),
    )


def _parse_code(r: _Reader, value: object, path: str) -> Code:
    raw = r.obj(value, path, {"code", "display", "role", "status"}, set())
    return Code(
        code=r.text(raw["code"], f"{path}.code"),
        display=r.text(raw["display"], f"{path}.display"),
        role=r.text(raw["role"], f"{path}.role"),
        status=r.status(raw["status"], f"{path}.status"),
    )


def _parse_option_sets(r: _Reader, value: object) -> dict[str, OptionSet]:
    if not isinstance(value, dict) or not value:
        r.fail("option_sets", "expected a non-empty object")
    sets: dict[str, OptionSet] = {}
    for name, raw in value.items():
        path = f"option_sets.{name}"
        spec = r.obj(raw, path, set(), {"choices", "scale"})
        if ("choices" in spec) == ("scale" in spec):
            r.fail(path, "expected exactly one of 'choices' or 'scale'")
        options: list[tuple[int, str]] = []
        if "choices" in spec:
            choices = r.array(spec["choices"], f"{path}.choices")
            for i, choice in enumerate(choices):
                cpath = f"{path}.choices[{i}]"
                c = r.obj(choice, cpath, {"value", "label"}, set())
                options.append(
                    (r.integer(c["value"], f"{cpath}.value"), r.text(c["label"], f"{cpath}.label"))
                )
        else:
            spath = f"{path}.scale"
            s = r.obj(spec["scale"], spath, {"min", "max"}, {"anchors"})
            low = r.integer(s["min"], f"{spath}.min")
            high = r.integer(s["max"], f"{spath}.max")
            if high <= low:
                r.fail(f"{spath}.max", "must be greater than min")
            anchors_raw = s.get("anchors", {})
            if not isinstance(anchors_raw, dict):
                r.fail(f"{spath}.anchors", "expected an object")
            anchors: dict[int, str] = {}
            for key, label in anchors_raw.items():
                apath = f"{spath}.anchors.{key}"
                if not key.lstrip("-").isdigit() or not low <= int(key) <= high:
                    r.fail(apath, f"expected a whole number from {low} to {high}")
                anchors[int(key)] = r.text(label, apath)
            options = [(v, anchors.get(v, "")) for v in range(low, high + 1)]
        if len(options) < 2:
            r.fail(path, "expected at least two allowed values")
        values = [v for v, _ in options]
        if len(set(values)) != len(values):
            r.fail(path, "duplicate answer values")
        sets[name] = OptionSet(name=name, options=tuple(options), is_scale="scale" in spec)
    return sets


def _parse_item(
    r: _Reader, value: object, path: str, number: int, option_sets: Mapping[str, OptionSet]
) -> Item:
    raw = r.obj(
        value,
        path,
        {"id", "label", "options"},
        {"text", "text_status", "wording_restricted", "scores", "loinc", "note"},
    )
    set_name = r.text(raw["options"], f"{path}.options")
    if set_name not in option_sets:
        r.fail(f"{path}.options", f"no option set named {set_name!r}")
    options = option_sets[set_name]
    restricted = r.boolean(raw.get("wording_restricted", False), f"{path}.wording_restricted")
    text = r.opt_text(raw.get("text"), f"{path}.text")
    text_status: str | None = None
    if text is not None:
        if restricted:
            r.fail(f"{path}.text", "must be null when wording_restricted is true")
        text_status = r.status(raw.get("text_status"), f"{path}.text_status")
    elif "text_status" in raw:
        r.fail(f"{path}.text_status", "only allowed with a text")

    scores: dict[int, int] = {v: v for v in options.values}
    if "scores" in raw:
        spath = f"{path}.scores"
        mapping = raw["scores"]
        if not isinstance(mapping, dict):
            r.fail(spath, "expected an object of answer value → item score")
        keys = set()
        for key, item_score in mapping.items():
            if not key.lstrip("-").isdigit() or int(key) not in options.values:
                r.fail(f"{spath}.{key}", f"not an answer value of option set {set_name!r}")
            keys.add(int(key))
            scores[int(key)] = r.integer(item_score, f"{spath}.{key}")
        if keys != set(options.values):
            r.fail(spath, "must give a score for every answer value")
    loinc = _parse_code(r, raw["loinc"], f"{path}.loinc") if "loinc" in raw else None
    return Item(
        number=number,
        id=r.text(raw["id"], f"{path}.id"),
        label=r.text(raw["label"], f"{path}.label"),
        text=text,
        text_status=text_status,
        wording_restricted=restricted,
        options=options,
        scores=MappingProxyType(scores),
        loinc=loinc,
        note=r.opt_text(raw.get("note"), f"{path}.note"),
    )


def _parse_item_numbers(r: _Reader, value: object, path: str, count: int) -> tuple[int, ...]:
    numbers = r.array(value, path)
    if not numbers:
        r.fail(path, "expected at least one item number")
    for i, number in enumerate(numbers):
        if not _is_int(number) or not 1 <= number <= count:
            r.fail(f"{path}[{i}]", f"expected an item number from 1 to {count}")
    if len(set(numbers)) != len(numbers):
        r.fail(path, "duplicate item numbers")
    return tuple(numbers)


def _parse_condition(
    r: _Reader,
    value: object,
    path: str,
    items: Sequence[Item],
    subscales: Sequence[str],
    flags: Sequence[str] | None,
) -> Condition:
    if not isinstance(value, dict):
        r.fail(path, "expected an object")
    kinds: tuple[str, ...] = ("total", "subscale", "any_item") + (
        ("flag",) if flags is not None else ()
    )
    on = r.choice(value.get("on"), f"{path}.on", kinds)
    if on == "flag":
        raw = r.obj(value, path, {"on", "flag"}, set())
        flag = r.text(raw["flag"], f"{path}.flag")
        if flag not in (flags or ()):
            r.fail(f"{path}.flag", f"no flag rule named {flag!r}")
        return Condition(on="flag", flag=flag)
    required = (
        {"on"}
        | ({"subscale"} if on == "subscale" else set())
        | ({"items"} if on == "any_item" else set())
    )
    raw = r.obj(value, path, required, {"min", "max"})
    minimum = r.opt_number(raw.get("min"), f"{path}.min")
    maximum = r.opt_number(raw.get("max"), f"{path}.max")
    if minimum is None and maximum is None:
        r.fail(path, "expected 'min', 'max' or both")
    if minimum is not None and maximum is not None and maximum < minimum:
        r.fail(f"{path}.max", "must not be below min")
    if on == "subscale":
        name = r.text(raw["subscale"], f"{path}.subscale")
        if name not in subscales:
            r.fail(f"{path}.subscale", f"no subscale named {name!r}")
        return Condition(on="subscale", subscale=name, minimum=minimum, maximum=maximum)
    if on == "any_item":
        numbers = _parse_item_numbers(r, raw["items"], f"{path}.items", len(items))
        return Condition(on="any_item", items=numbers, minimum=minimum, maximum=maximum)
    return Condition(on="total", minimum=minimum, maximum=maximum)


def _parse_scoring(r: _Reader, value: object, items: Sequence[Item]) -> Scoring:
    raw = r.obj(
        value,
        "scoring",
        {"method", "range", "description"},
        {"item", "decimals", "subscales", "bands", "flags", "important_change"},
    )
    method = cast(ScoringMethod, r.choice(raw["method"], "scoring.method", ("sum", "mean", "item")))
    decimals = r.integer(raw.get("decimals", 1), "scoring.decimals")
    if not 0 <= decimals <= 3:
        r.fail("scoring.decimals", "expected 0 to 3")
    item_number: int | None = None
    if method == "item":
        if "item" not in raw:
            r.fail("scoring.item", "missing (needed when method is 'item')")
        item_number = r.integer(raw["item"], "scoring.item")
        if not 1 <= item_number <= len(items):
            r.fail("scoring.item", f"expected an item number from 1 to {len(items)}")
    elif "item" in raw:
        r.fail("scoring.item", "only allowed when method is 'item'")

    rng = r.obj(raw["range"], "scoring.range", {"min", "max"}, set())
    declared = (
        r.number(rng["min"], "scoring.range.min"),
        r.number(rng["max"], "scoring.range.max"),
    )
    lows = [item.min_score for item in items]
    highs = [item.max_score for item in items]
    computed: tuple[int | float, int | float]
    if method == "item":
        target = items[cast(int, item_number) - 1]
        computed = (target.min_score, target.max_score)
    else:
        computed = (_aggregate(method, lows, decimals), _aggregate(method, highs, decimals))
    if declared != computed:
        r.fail("scoring.range", f"declared {list(declared)} but the items give {list(computed)}")

    subscales: list[Subscale] = []
    for i, entry in enumerate(r.array(raw.get("subscales", []), "scoring.subscales")):
        path = f"scoring.subscales[{i}]"
        s = r.obj(
            entry, path, {"code", "label", "method", "items"}, {"values", "decimals", "loinc"}
        )
        sub_method = cast(
            SubscaleMethod, r.choice(s["method"], f"{path}.method", ("sum", "mean", "count"))
        )
        numbers = _parse_item_numbers(r, s["items"], f"{path}.items", len(items))
        values: tuple[int, ...] = ()
        if sub_method == "count":
            if "values" not in s:
                r.fail(f"{path}.values", "missing (needed when method is 'count')")
            values = tuple(
                r.integer(v, f"{path}.values[{j}]")
                for j, v in enumerate(r.array(s["values"], f"{path}.values"))
            )
            if not values:
                r.fail(f"{path}.values", "expected at least one answer value")
        elif "values" in s:
            r.fail(f"{path}.values", "only allowed when method is 'count'")
        sub_code = r.text(s["code"], f"{path}.code")
        if any(existing.code == sub_code for existing in subscales):
            r.fail(f"{path}.code", f"duplicate subscale {sub_code!r}")
        subscales.append(
            Subscale(
                code=sub_code,
                label=r.text(s["label"], f"{path}.label"),
                method=sub_method,
                items=numbers,
                values=values,
                decimals=r.integer(s.get("decimals", 1), f"{path}.decimals"),
                loinc=_parse_code(r, s["loinc"], f"{path}.loinc") if "loinc" in s else None,
            )
        )
    sub_codes = [s.code for s in subscales]

    flags: list[FlagRule] = []
    for i, entry in enumerate(r.array(raw.get("flags", []), "scoring.flags")):
        path = f"scoring.flags[{i}]"
        f = r.obj(entry, path, {"code", "description", "when"}, set())
        flag_code = r.text(f["code"], f"{path}.code")
        if flag_code not in FLAG_ADVICE:
            r.fail(
                f"{path}.code",
                f"no advice is defined for flag {flag_code!r}; known: {', '.join(FLAG_ADVICE)}",
            )
        if any(existing.code == flag_code for existing in flags):
            r.fail(f"{path}.code", f"duplicate flag {flag_code!r}")
        when = _parse_condition(r, f["when"], f"{path}.when", items, sub_codes, None)
        flags.append(
            FlagRule(
                code=flag_code,
                description=r.text(f["description"], f"{path}.description"),
                when=when,
            )
        )
    flag_codes = [f.code for f in flags]

    bands: list[Band] = []
    for i, entry in enumerate(r.array(raw.get("bands", []), "scoring.bands")):
        path = f"scoring.bands[{i}]"
        b = r.obj(entry, path, {"code", "label"}, {"when", "loinc_answer"})
        band_code = r.text(b["code"], f"{path}.code")
        if any(existing.code == band_code for existing in bands):
            r.fail(f"{path}.code", f"duplicate band {band_code!r}")
        band_when = (
            _parse_condition(r, b["when"], f"{path}.when", items, sub_codes, flag_codes)
            if "when" in b
            else None
        )
        if band_when is None and i != len(raw["bands"]) - 1:
            r.fail(f"{path}.when", "only the last band may apply without a condition")
        bands.append(
            Band(
                code=band_code,
                label=r.text(b["label"], f"{path}.label"),
                when=band_when,
                loinc_answer=r.opt_text(b.get("loinc_answer"), f"{path}.loinc_answer"),
            )
        )
    if bands and bands[-1].when is not None:
        _check_band_coverage(r, method, computed, bands)

    changes: list[ImportantChange] = []
    for i, entry in enumerate(r.array(raw.get("important_change", []), "scoring.important_change")):
        path = f"scoring.important_change[{i}]"
        c = r.obj(
            entry, path, {"description", "direction", "source", "status"}, {"points", "percent"}
        )
        changes.append(
            ImportantChange(
                description=r.text(c["description"], f"{path}.description"),
                direction=r.choice(c["direction"], f"{path}.direction", ("decrease", "increase")),
                source=r.text(c["source"], f"{path}.source"),
                status=r.status(c["status"], f"{path}.status"),
                points=r.opt_number(c.get("points"), f"{path}.points"),
                percent=r.opt_number(c.get("percent"), f"{path}.percent"),
            )
        )

    return Scoring(
        method=method,
        minimum=computed[0],
        maximum=computed[1],
        description=r.text(raw["description"], "scoring.description"),
        item=item_number,
        decimals=decimals,
        subscales=tuple(subscales),
        bands=tuple(bands),
        flags=tuple(flags),
        important_change=tuple(changes),
    )


def _check_band_coverage(
    r: _Reader,
    method: ScoringMethod,
    total_range: tuple[int | float, int | float],
    bands: Sequence[Band],
) -> None:
    """Without a catch-all last band, the bands must be total ranges that give every
    possible whole-number total exactly one band."""
    if method == "mean" or any(b.when is None or b.when.on != "total" for b in bands):
        r.fail(
            "scoring.bands",
            "the last band must have no condition unless every band is a range of a "
            "whole-number total",
        )
    low, high = int(total_range[0]), int(total_range[1])
    for total in range(low, high + 1):
        matches = [b.code for b in bands if b.when is not None and b.when.holds(total, {}, (), ())]
        if len(matches) != 1:
            found = ", ".join(matches) or "none"
            r.fail("scoring.bands", f"total {total} must fall in exactly one band (found: {found})")
