"""Questionnaire instruments: definitions as data, scoring, and the advice a flag needs.

The definitions live in ``instruments/*.json`` next to this module, one file per
instrument, each with its source, licence note and verification status (the labels
of ``clinical/reference.md``: ``V`` verified, ``P`` partly verified, ``U`` unverified;
``design`` marks a PainPath rule built from verified rows, ``product`` PainPath's own
wording). ``load_instruments`` reads and validates them; ``score`` turns a list of
answers (one per item, in item order) into a :class:`Score`; ``advice_for`` gives the
signposting a patient must see at once when a score raises a flag. The schedule
functions (``parse_schedule``, ``occasions``, ``due_now``, ``completion``) say which
questionnaire is due when, and ``result_sentence``/``result_meaning`` put a score in
plain words.

Pure: standard library only; no database, web, clock or randomness.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
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
                if not key.lstrip("-").isdecimal() or not low <= int(key) <= high:
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
            if not key.lstrip("-").isdecimal() or int(key) not in options.values:
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


# --------------------------------------------------------------------------- schedules
#
# Which questionnaire is due when. The defaults are PainPath design choices (issue 3)
# built from clinical/reference.md: §1.11 (efficacy measures at baseline, 4-8 weeks,
# about 12 weeks, then regularly [P]; mood incl. PHQ-9 item 9 at baseline and in the
# early weeks [V for the warnings, the schedule is a design choice]) and §2.1 (NICE NG59
# rec 1.1.2: consider risk stratification such as STarT Back at first contact for each
# new episode [V]). A patient's care plan may override them (``parse_schedule``).
# The daily pain diary is scheduled by the diary area, not here.

ScheduleKind = Literal["baseline", "periodic", "review", "episode-start"]

REVIEW_WINDOW_DAYS = 7
"""A questionnaire 'before a review' is due in the 7 days up to and including the review."""

GRACE_DAYS = 7
"""An occasion still open after this many days counts as missed in completion rates."""

SCHEDULE_FIELDS = frozenset({"every_days", "at_baseline", "at_reviews", "at_episode_start"})


@dataclass(frozen=True)
class ScheduleRule:
    """When one instrument is due.

    ``every_days``: again this many days after the last completion; ``at_baseline``:
    once at the start when never completed; ``at_reviews``: in the
    :data:`REVIEW_WINDOW_DAYS` before each review (a follow-up whose kind says
    "review"); ``at_episode_start``: when none was completed since the current care
    episode began.
    """

    instrument: str
    every_days: int | None = None
    at_baseline: bool = False
    at_reviews: bool = False
    at_episode_start: bool = False
    source: str = ""


_DESIGN = "PainPath design default (issue 3)"
_EFFICACY = (
    f"{_DESIGN}; clinical/reference.md §1.11: efficacy (NRS/PEG, RMDQ, PGIC) at baseline "
    "and at regular reviews [P]"
)
_MOOD = (
    f"{_DESIGN}; clinical/reference.md §1.11: mood and suicidality (PHQ-9 incl. item 9) at "
    "baseline, in the early weeks and after dose changes [V for the warnings; the "
    "schedule is a design choice]"
)

DEFAULT_SCHEDULE: tuple[ScheduleRule, ...] = (
    ScheduleRule("peg", every_days=7, at_baseline=True, source=f"{_EFFICACY}; weekly"),
    ScheduleRule(
        "rmdq",
        every_days=28,
        at_baseline=True,
        at_reviews=True,
        source=f"{_EFFICACY}; every 4 weeks and before each review",
    ),
    ScheduleRule(
        "phq9",
        every_days=28,
        at_baseline=True,
        at_reviews=True,
        source=f"{_MOOD}; every 4 weeks and before each review",
    ),
    ScheduleRule(
        "gad7",
        every_days=28,
        at_baseline=True,
        at_reviews=True,
        source=f"{_DESIGN}; every 4 weeks and before each review, alongside the PHQ-9",
    ),
    ScheduleRule(
        "startback",
        at_episode_start=True,
        source=(
            "NICE NG59 rec 1.1.2: consider risk stratification (e.g. STarT Back) at first "
            "contact for each new episode [V] (clinical/reference.md §2.1)"
        ),
    ),
    ScheduleRule(
        "pgic",
        at_reviews=True,
        source=(
            f"{_DESIGN}; clinical/reference.md §3.1: PGIC 'much' or 'very much improved' "
            "is part of the proposed responder definition, judged at reviews"
        ),
    ),
)


def parse_schedule(
    settings: Mapping[str, Any] | None, *, base: str = "settings.questionnaires"
) -> tuple[ScheduleRule, ...]:
    """The questionnaire schedule of a care plan: the defaults, changed by
    ``settings["questionnaires"]``, a mapping of instrument code to either ``false``
    (not scheduled) or an object with any of ``every_days`` (1-365 or null),
    ``at_baseline``, ``at_reviews``, ``at_episode_start`` (true/false) and ``enabled``.

    Example: ``{"questionnaires": {"peg": {"every_days": 14}, "gad7": false,
    "sleep": {"every_days": 7, "at_baseline": true}}}``.

    Raises :class:`InvalidInput` naming the setting at fault (under ``base``), also for
    a scheduled instrument that could never fall due.
    """
    rules = {rule.instrument: rule for rule in DEFAULT_SCHEDULE}
    raw = (settings or {}).get("questionnaires")
    if raw is None:
        return tuple(rules.values())
    if not isinstance(raw, Mapping):
        raise InvalidInput("the questionnaire schedule must be an object", field=base)
    known = load_instruments()
    for code, change in raw.items():
        path = f"{base}.{code}"
        if code not in known:
            raise InvalidInput(
                f"unknown instrument {code!r}; known instruments: {', '.join(known)}", field=path
            )
        if change is False or (isinstance(change, Mapping) and change.get("enabled") is False):
            rules.pop(code, None)
            continue
        if not isinstance(change, Mapping):
            raise InvalidInput("expected false or an object of schedule settings", field=path)
        unknown = sorted(set(change) - SCHEDULE_FIELDS - {"enabled"})
        if unknown:
            raise InvalidInput(
                f"unknown setting {unknown[0]!r}; use {', '.join(sorted(SCHEDULE_FIELDS))}",
                field=f"{path}.{unknown[0]}",
            )
        rule = rules.get(code, ScheduleRule(code, source="care plan"))
        values: dict[str, Any] = {}
        if "every_days" in change:
            every = change["every_days"]
            if every is not None and (not _is_int(every) or not 1 <= every <= 365):
                raise InvalidInput(
                    "every_days must be a whole number of days from 1 to 365, or null",
                    field=f"{path}.every_days",
                )
            values["every_days"] = every
        for key in ("at_baseline", "at_reviews", "at_episode_start", "enabled"):
            if key in change and not isinstance(change[key], bool):
                raise InvalidInput(f"{key} must be true or false", field=f"{path}.{key}")
            if key in change and key != "enabled":
                values[key] = change[key]
        changed = ScheduleRule(
            instrument=code,
            every_days=values.get("every_days", rule.every_days),
            at_baseline=values.get("at_baseline", rule.at_baseline),
            at_reviews=values.get("at_reviews", rule.at_reviews),
            at_episode_start=values.get("at_episode_start", rule.at_episode_start),
            source=f"{rule.source}; changed by the care plan" if rule.source else "care plan",
        )
        if not (
            changed.every_days
            or changed.at_baseline
            or changed.at_reviews
            or changed.at_episode_start
        ):
            raise InvalidInput(
                "this questionnaire would never fall due: give every_days, or set at least "
                "one of at_baseline, at_reviews or at_episode_start (or leave it unscheduled)",
                field=path,
            )
        rules[code] = changed
    return tuple(rules.values())


def schedule_rule_json(rule: ScheduleRule | None) -> dict[str, Any]:
    """One instrument's schedule as settings (what a care plan stores and the API shows)."""
    if rule is None:
        return {
            "scheduled": False,
            "every_days": None,
            "at_baseline": False,
            "at_reviews": False,
            "at_episode_start": False,
        }
    return {
        "scheduled": True,
        "every_days": rule.every_days,
        "at_baseline": rule.at_baseline,
        "at_reviews": rule.at_reviews,
        "at_episode_start": rule.at_episode_start,
    }


def describe_rule(rule: ScheduleRule | None) -> str:
    """The schedule of one instrument in plain words ("every 28 days; at the start; ...")."""
    if rule is None:
        return "not scheduled"
    parts: list[str] = []
    if rule.at_baseline:
        parts.append("at the start")
    if rule.every_days:
        parts.append("every day" if rule.every_days == 1 else f"every {rule.every_days} days")
    if rule.at_reviews:
        parts.append(f"in the {REVIEW_WINDOW_DAYS} days before each review")
    if rule.at_episode_start:
        parts.append("at the start of each new episode")
    return "; ".join(parts)


@dataclass(frozen=True)
class ScheduleFacts:
    """What the schedule depends on, as dates on the patient's own calendar.

    ``start``: when the patient's questionnaires began to count (e.g. joining PainPath);
    ``episode_start``: when the current care episode began (None without one);
    ``reviews``: dates of review follow-ups (not cancelled); ``completions``: the dates
    each instrument was completed.
    """

    today: date
    start: date
    episode_start: date | None = None
    reviews: tuple[date, ...] = ()
    completions: Mapping[str, Sequence[date]] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Occasion:
    """One time an instrument fell due: completions on ``due`` to ``closes`` count."""

    instrument: str
    kind: ScheduleKind
    due: date
    closes: date | None
    completed_on: date | None = None
    review: date | None = None
    every_days: int | None = None

    def is_open(self, today: date) -> bool:
        return (
            self.completed_on is None
            and self.due <= today
            and (self.closes is None or today <= self.closes)
        )

    def counts(self, today: date) -> bool:
        """Whether the occasion counts towards a completion rate today: done, or its
        time has passed (closed, or open for :data:`GRACE_DAYS` or more)."""
        if self.completed_on is not None:
            return True
        closed = self.closes is not None and self.closes < today
        return closed or (today - self.due).days >= GRACE_DAYS


def occasions(rule: ScheduleRule, facts: ScheduleFacts) -> list[Occasion]:
    """Every time ``rule`` made its instrument due from ``facts.start`` to ``facts.today``,
    each with the completion that met it (if any)."""
    done = sorted(d for d in facts.completions.get(rule.instrument, ()) if d <= facts.today)
    found: list[Occasion] = []
    if rule.every_days is not None or rule.at_baseline:
        found.extend(_periodic(rule, facts, done))
    if rule.at_reviews:
        for review in sorted(set(facts.reviews)):
            opens = review - timedelta(days=REVIEW_WINDOW_DAYS)
            if review < facts.start or opens > facts.today:
                continue
            met = next((d for d in done if opens <= d <= review), None)
            found.append(
                Occasion(rule.instrument, "review", opens, review, completed_on=met, review=review)
            )
    if rule.at_episode_start and facts.episode_start is not None:
        began = facts.episode_start
        due = max(began, facts.start)
        if due <= facts.today:
            met = next((d for d in done if d >= began), None)
            found.append(Occasion(rule.instrument, "episode-start", due, None, completed_on=met))
    return sorted(found, key=lambda o: (o.due, o.kind))


def _periodic(rule: ScheduleRule, facts: ScheduleFacts, done: Sequence[date]) -> list[Occasion]:
    every = rule.every_days
    found: list[Occasion] = []
    if rule.at_baseline:
        current: date | None = facts.start
    elif every is not None:
        current = (done[0] if done else facts.start) + timedelta(days=every)
    else:
        current = None
    index = 0
    while current is not None and current <= facts.today:
        if index < len(done) and done[index] < current:
            # done early: the clock restarts from the latest completion
            current = done[index] + timedelta(days=every) if every is not None else None
            index += 1
            continue
        kind: ScheduleKind = "baseline" if index == 0 and rule.at_baseline else "periodic"
        closes = current + timedelta(days=every - 1) if every is not None else None
        met = (
            done[index] if index < len(done) and (closes is None or done[index] <= closes) else None
        )
        found.append(Occasion(rule.instrument, kind, current, closes, met, every_days=every))
        if every is None:
            break
        if met is not None:
            current = met + timedelta(days=every)
            index += 1
        else:
            current = current + timedelta(days=every)
    return found


@dataclass(frozen=True)
class Due:
    """An instrument due today: why (``kind``, ``reason`` in plain words) and since when."""

    instrument: str
    kind: ScheduleKind
    due: date
    reason: str
    review: date | None = None


_DUE_PRIORITY: Mapping[str, int] = MappingProxyType(
    {"review": 0, "episode-start": 1, "baseline": 2, "periodic": 3}
)


def due_now(rules: Sequence[ScheduleRule], facts: ScheduleFacts) -> list[Due]:
    """The instruments due today, one entry each, earliest due first.

    When several reasons apply the most specific is given (a coming review, then the
    start of an episode, then the first time, then the regular interval); the due date
    is the earliest open occasion's.
    """
    result: list[Due] = []
    for rule in rules:
        open_now = [o for o in occasions(rule, facts) if o.is_open(facts.today)]
        if not open_now:
            continue
        main = min(open_now, key=lambda o: (_DUE_PRIORITY[o.kind], o.due))
        result.append(
            Due(
                instrument=rule.instrument,
                kind=main.kind,
                due=min(o.due for o in open_now),
                reason=reason_text(main),
                review=main.review,
            )
        )
    return sorted(result, key=lambda d: (d.due, d.instrument))


def reason_text(occasion: Occasion) -> str:
    """Why an occasion is due, in plain words for the patient."""
    if occasion.kind == "review" and occasion.review is not None:
        return f"Before your review on {format_day(occasion.review)}"
    if occasion.kind == "episode-start":
        return "At the start of this episode of back pain"
    if occasion.kind == "baseline":
        return "To see where you are starting from"
    every = occasion.every_days
    if every == 7:
        return "Every week"
    if every is not None and every % 7 == 0:
        return f"Every {every // 7} weeks"
    return f"Every {every} days" if every is not None else "Due"


def format_day(day: date) -> str:
    """A date as people write it: 5 March 2026."""
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Completion:
    """How often an instrument was done when it was due."""

    instrument: str
    due: int
    completed: int

    @property
    def rate(self) -> float | None:
        return None if self.due == 0 else round(self.completed / self.due, 2)


def completion(
    rules: Sequence[ScheduleRule], facts: ScheduleFacts, *, days: int
) -> list[Completion]:
    """For each scheduled instrument, the occasions that fell due in the ``days`` up to
    and including ``facts.today`` (counted once done, or once their time has passed),
    and how many of them were completed."""
    if days < 1:
        raise InvalidInput("days must be 1 or more", field="days")
    first = facts.today - timedelta(days=days - 1)
    result: list[Completion] = []
    for rule in rules:
        counted = [
            o
            for o in occasions(rule, facts)
            if first <= o.due <= facts.today and o.counts(facts.today)
        ]
        completed = sum(1 for o in counted if o.completed_on is not None)
        result.append(Completion(rule.instrument, len(counted), completed))
    return result


# --------------------------------------------------------------------------- results in plain words


@dataclass(frozen=True)
class PlainText:
    """How PainPath names an instrument to patients (PainPath's own wording)."""

    title: str
    score_name: str
    measures: str
    lower_means: str


PLAIN: Mapping[str, PlainText] = MappingProxyType(
    {
        "nrs": PlainText("Pain score", "pain score", "how bad your pain has been", "less pain"),
        "peg": PlainText(
            "Pain and daily life (PEG)",
            "PEG score",
            "your pain over the past week and how much it got in the way of enjoying life "
            "and doing things",
            "less pain and less effect on your life",
        ),
        "rmdq": PlainText(
            "Back pain and everyday activities (RMDQ)",
            "RMDQ score",
            "how much your back stops you doing everyday things today",
            "your back gets in the way of fewer things",
        ),
        "phq9": PlainText(
            "Mood (PHQ-9)",
            "PHQ-9 score",
            "how often low mood and related problems bothered you over the last 2 weeks",
            "fewer problems with your mood",
        ),
        "gad7": PlainText(
            "Worry and anxiety (GAD-7)",
            "GAD-7 score",
            "how often worry and anxiety bothered you over the last 2 weeks",
            "fewer problems with worry and anxiety",
        ),
        "pgic": PlainText(
            "How things have changed (PGIC)",
            "answer",
            "how you feel things have changed since you started treatment",
            "",
        ),
        "startback": PlainText(
            "Back pain check (STarT Back)",
            "STarT Back score",
            "what kind of support is likely to help your back pain most",
            "a lower risk of back pain holding you back",
        ),
        "sleep": PlainText(
            "Sleep", "sleep score", "how much pain got in the way of your sleep", "better sleep"
        ),
        "redflags": PlainText(
            "Warning signs check",
            "warning signs",
            "signs that mean a doctor needs to check your back soon",
            "",
        ),
    }
)


def plain(instrument: Instrument) -> PlainText:
    return PLAIN.get(
        instrument.code,
        PlainText(instrument.name, f"{instrument.name} score", instrument.description, ""),
    )


def band_label(instrument: Instrument, band: str | None) -> str | None:
    """The label of a band code ('mild' → 'Mild')."""
    return next((b.label for b in instrument.scoring.bands if b.code == band), None)


def format_total(total: int | float) -> str:
    """A score as people read it: 7, 5.3 (5.0 is shown as 5)."""
    return str(int(total)) if float(total).is_integer() else f"{float(total):g}"


def result_sentence(
    instrument: Instrument,
    total: int | float,
    band: str | None,
    previous: int | float | None = None,
) -> str:
    """One sentence about a result, with the change since the one before, e.g.
    'Your PHQ-9 score was 7 (mild), down from 11.'"""
    label = band_label(instrument, band)
    if instrument.code == "pgic" and label:
        return f"You said things were {label.lower()} since you started treatment."
    if instrument.code == "redflags":
        count = int(total)
        if count == 0:
            return "You answered no to every warning-sign question."
        noun = "question" if count == 1 else "questions"
        return f"You answered yes to {count} warning-sign {noun}."
    text = f"Your {plain(instrument).score_name} was {format_total(total)}"
    if label:
        text += f" ({label.lower()})"
    if previous is None:
        return text + "."
    if previous > total:
        return f"{text}, down from {format_total(previous)}."
    if previous < total:
        return f"{text}, up from {format_total(previous)}."
    return f"{text}, the same as last time."


def result_meaning(instrument: Instrument, band: str | None) -> str:
    """What a score means, in plain words (PainPath's own wording)."""
    words = plain(instrument)
    text = f"This questionnaire looks at {words.measures}."
    low, high = instrument.scoring.minimum, instrument.scoring.maximum
    if words.lower_means:
        text += (
            f" Scores go from {format_total(low)} to {format_total(high)}: a lower score "
            f"means {words.lower_means}."
        )
    label = band_label(instrument, band)
    if instrument.code == "startback" and label:
        text += (
            f" Your result is {label.lower()}. Your care team uses it to choose the right "
            "support: simpler support for low risk, more support for medium or high risk "
            "(NICE NG59)."
        )
    elif instrument.code in ("phq9", "gad7") and label:
        text += (
            f" Your score is in the range called '{label.lower()}'. If you are worried about "
            "how you feel, talk to your GP or care team."
        )
    elif instrument.code == "redflags":
        text += " Any 'yes' answer needs a doctor to check it; the advice above says how soon."
    elif label and instrument.code != "pgic":
        text += f" Your score is in the range called '{label.lower()}'."
    return text
