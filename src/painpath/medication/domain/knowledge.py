"""Medicines knowledge: frozen dataclasses, a schema check and the loader.

The knowledge lives in ``painpath/medication/knowledge/<medicine>.yaml``, one file per
medicine. Every rule-bearing fact (dose, strength, contraindication, interaction,
triage rule) carries a ``source`` and a ``verification`` label taken from the clinical
reference: ``V`` verified, ``P`` partly verified, ``design`` a software default derived
from sourced facts. Facts the reference marks ``U`` (unverified) are refused as rules;
an adverse effect whose band is unverified must say ``frequency not verified``.

A medicine whose monograph is not compiled has ``status: not_compiled`` and its
rule sections set to ``not_compiled``; PainPath then refuses to check or plan it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final

import yaml

from painpath.kit.errors import ConfigurationError

NOT_COMPILED: Final = "not_compiled"
SCHEMA_VERSION: Final = 1
VERIFICATIONS: Final = ("V", "P", "U", "design")
RULE_VERIFICATIONS: Final = ("V", "P", "design")
SEVERITIES: Final = ("contraindicated", "serious", "moderate", "minor")
TRIAGE_LEVELS: Final = ("self-care", "routine", "urgent", "emergency")
REPORTED_SEVERITIES: Final = ("mild", "moderate", "severe")
FREQUENCY_BANDS: Final = ("very common", "common", "uncommon", "rare", "very rare", "not known")
FREQUENCY_NOT_VERIFIED: Final = "frequency not verified"
RED_FLAGS: Final = ("cauda_equina",)
CONTRAINDICATION_KINDS: Final = ("condition", "hepatic", "renal", "blood_pressure")
APPLIES_AT: Final = ("always", "initiation")


def normalise_name(text: str) -> str:
    """Fold a drug or condition name for matching: case, apostrophes, dots, hyphens."""
    folded = text.casefold().replace("\u2019", "'").replace("'", "").replace(".", " ")
    folded = re.sub(r"[-_/,]+", " ", folded)
    return " ".join(folded.split())


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class SourcedText:
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class AtcCode:
    value: str
    source: str
    verification: str


@dataclass(frozen=True)
class DosageForm:
    form: str
    strengths_mg: tuple[int, ...]
    whole_only: bool
    administration: str
    note: str
    source: str
    verification: str


@dataclass(frozen=True)
class DividedDoses:
    """Daily doses above ``above_daily_mg`` are split into evenly divided doses."""

    above_daily_mg: Decimal
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class GuidanceStatement:
    """Licensing or guideline position, optionally tied to conditions."""

    code: str
    text: str
    condition_terms: tuple[str, ...]
    source: str
    verification: str


@dataclass(frozen=True)
class TitrationStep:
    day: int
    daily_dose_mg: Decimal


@dataclass(frozen=True)
class Titration:
    indication: str
    condition_terms: tuple[str, ...]
    steps: tuple[TitrationStep, ...]
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class DoseLimit:
    daily_mg: Decimal
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class AdvisoryLimit:
    code: str
    daily_mg: Decimal
    condition_terms: tuple[str, ...]
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class Contraindication:
    code: str
    kind: str
    text: str
    condition_terms: tuple[str, ...]
    applies_at: str
    crcl_below: Decimal | None
    source: str
    verification: str


@dataclass(frozen=True)
class Caution:
    code: str
    text: str
    condition_terms: tuple[str, ...]
    source: str
    verification: str


@dataclass(frozen=True)
class DrugName:
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class InteractionRule:
    id: str
    label: str
    members: tuple[DrugName, ...]
    class_terms: tuple[str, ...]
    severity: str
    effect: str
    action: str
    rationale: str
    source: str
    verification: str


@dataclass(frozen=True)
class AdverseEffect:
    name: str
    system: str
    frequency: str
    verification: str
    source: str
    terms: tuple[str, ...]
    red_flag: str | None = None


@dataclass(frozen=True)
class TriageLevels:
    mild: str
    moderate: str
    severe: str

    def for_severity(self, severity: str) -> str:
        value: str = getattr(self, severity)
        return value


@dataclass(frozen=True)
class SymptomRule:
    id: str
    name: str
    terms: tuple[str, ...]
    levels: TriageLevels
    advice: str
    source: str
    verification: str


@dataclass(frozen=True)
class Withdrawal:
    symptoms: tuple[str, ...]
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class TaperRules:
    minimum_weeks: int
    minimum_text: str
    minimum_source: str
    minimum_verification: str
    reduction_fraction: Decimal
    low_dose_reduction_fraction: Decimal
    low_dose_at_or_below_mg: Decimal
    step_weeks_minimum: int
    watch_days: int
    text: str
    source: str
    verification: str


@dataclass(frozen=True)
class MissedDoseRules:
    once_daily: str
    once_daily_threshold_hours: int
    other: str
    note: str
    source: str
    verification: str


@dataclass(frozen=True)
class MonitoringItem:
    parameter: str
    when: str
    source: str
    verification: str


@dataclass(frozen=True)
class MedicineKnowledge:
    name: str
    display_name: str
    status: str
    file: str
    not_compiled_reason: str
    drug_class: str
    aliases: tuple[str, ...]
    brand_names: tuple[str, ...]
    brand_names_source: str
    atc_code: AtcCode | None
    mechanism: SourcedText | None
    legal_status: SourcedText | None
    forms: tuple[DosageForm, ...]
    divided_doses: DividedDoses | None
    licensing: tuple[GuidanceStatement, ...]
    titrations: tuple[Titration, ...]
    max_daily_dose: DoseLimit | None
    advisory_limits: tuple[AdvisoryLimit, ...]
    contraindications: tuple[Contraindication, ...]
    cautions: tuple[Caution, ...]
    interactions: tuple[InteractionRule, ...]
    adverse_effects: tuple[AdverseEffect, ...]
    symptom_rules: tuple[SymptomRule, ...]
    withdrawal: Withdrawal | None
    taper: TaperRules | None
    missed_dose: MissedDoseRules | None
    monitoring: tuple[MonitoringItem, ...]

    @property
    def compiled(self) -> bool:
        return self.status == "compiled"

    @property
    def whole_strengths_mg(self) -> tuple[int, ...]:
        """Strengths of the forms taken as whole units (capsules), ascending."""
        return tuple(sorted({s for f in self.forms for s in f.strengths_mg}))

    def to_dict(self) -> dict[str, Any]:
        """The knowledge as JSON-ready data (decimals as integers where whole)."""
        data: dict[str, Any] = _plain(self)
        return data


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


# ------------------------------------------------------------------------ the base


@dataclass(frozen=True)
class KnowledgeBase:
    """All medicines, with name indexes for resolving aliases and brand names."""

    medicines: tuple[MedicineKnowledge, ...]
    _medicine_index: Mapping[str, str] = field(repr=False, compare=False)
    _drug_index: Mapping[str, str] = field(repr=False, compare=False)
    _class_index: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)

    def medicine(self, name: str) -> MedicineKnowledge | None:
        """The knowledge for a medicine by name, alias or brand name (any case)."""
        canonical = self._medicine_index.get(normalise_name(name))
        if canonical is None:
            return None
        return next(m for m in self.medicines if m.name == canonical)

    def resolve_drug(self, name: str) -> str | None:
        """The generic name for a medicine or known interacting drug, else None."""
        return self._drug_index.get(normalise_name(name))

    def class_terms(self, name: str) -> tuple[str, ...]:
        """Interaction rule ids (``medicine:rule``) a class name such as 'NSAIDs' refers to."""
        return self._class_index.get(normalise_name(name), ())

    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.medicines)


def _build_base(medicines: list[MedicineKnowledge]) -> KnowledgeBase:
    medicine_index: dict[str, str] = {}
    drug_index: dict[str, str] = {}
    class_index: dict[str, list[str]] = {}

    def claim(index: dict[str, str], key: str, canonical: str, where: str) -> None:
        norm = normalise_name(key)
        existing = index.get(norm)
        if existing is not None and existing != canonical:
            raise ConfigurationError(
                f"{where}: the name {key!r} is used for both {existing!r} and {canonical!r}"
            )
        index[norm] = canonical

    for med in medicines:
        for key in (med.name, *med.aliases, *med.brand_names):
            claim(medicine_index, key, med.name, med.file)
            claim(drug_index, key, med.name, med.file)
    for med in medicines:
        for rule in med.interactions:
            for member in rule.members:
                canonical = drug_index.get(normalise_name(member.name), member.name)
                for key in (member.name, *member.aliases):
                    claim(drug_index, key, canonical, f"{med.file}: interactions.{rule.id}")
            for term in rule.class_terms:
                class_index.setdefault(normalise_name(term), []).append(f"{med.name}:{rule.id}")
    return KnowledgeBase(
        medicines=tuple(medicines),
        _medicine_index=medicine_index,
        _drug_index=drug_index,
        _class_index={k: tuple(v) for k, v in class_index.items()},
    )


def load_knowledge(root: Traversable | None = None) -> KnowledgeBase:
    """Read and check every ``*.yaml`` knowledge file.

    ``root`` defaults to the packaged ``painpath/medication/knowledge`` folder (read
    through importlib.resources, cached). A malformed file raises
    :class:`ConfigurationError` naming the file and the field.
    """
    if root is None:
        return _default_knowledge()
    return _load_from(root)


@lru_cache(maxsize=1)
def _default_knowledge() -> KnowledgeBase:
    return _load_from(resources.files("painpath.medication") / "knowledge")


def _load_from(root: Traversable) -> KnowledgeBase:
    files = sorted(
        (entry for entry in root.iterdir() if entry.is_file() and entry.name.endswith(".yaml")),
        key=lambda entry: entry.name,
    )
    if not files:
        raise ConfigurationError(f"no medicine knowledge files (*.yaml) found in {root}")
    return _build_base([parse_knowledge_text(f.read_text(encoding="utf-8"), f.name) for f in files])


def resolve_drug(name: str) -> str | None:
    """The generic name behind a medicine name, alias or brand (case-insensitive)."""
    return load_knowledge().resolve_drug(name)


def parse_knowledge_text(text: str, filename: str) -> MedicineKnowledge:
    """Parse one YAML knowledge file; errors name the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{filename}: not valid YAML ({exc})") from exc
    try:
        return _parse_medicine(data, filename)
    except _SchemaError as exc:
        raise ConfigurationError(f"{filename}: {exc.path}: {exc.reason}", [exc.path]) from exc


# ---------------------------------------------------------------------- the schema


class _SchemaError(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class _Obj:
    """A mapping being read: tracks which keys were used so extras can be refused."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise _SchemaError(path or "(top level)", "must be a mapping")
        self.data: dict[object, object] = data
        self.path = path
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, *, required: bool = True) -> object:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise _SchemaError(self.at(key), "missing required field")
            return None
        return self.data[key]

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.raw(key, required=required)
        if value is None and not required:
            return default
        if not isinstance(value, str) or not value.strip():
            raise _SchemaError(self.at(key), "must be a non-empty text")
        return value.strip()

    def choice(self, key: str, allowed: Iterable[str]) -> str:
        value = self.text(key)
        allowed = tuple(allowed)
        if value not in allowed:
            raise _SchemaError(self.at(key), f"must be one of {', '.join(allowed)}; got {value!r}")
        return value

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _SchemaError(self.at(key), "must be a whole number")
        if value < minimum:
            raise _SchemaError(self.at(key), f"must be at least {minimum}")
        return value

    def decimal(self, key: str, *, positive: bool = True) -> Decimal:
        return _decimal(self.raw(key), self.at(key), positive=positive)

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.raw(key, required=required)
        if value is None and not required:
            return ()
        if not isinstance(value, list):
            raise _SchemaError(self.at(key), "must be a list")
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise _SchemaError(f"{self.at(key)}[{i}]", "must be a non-empty text")
            out.append(item.strip())
        return tuple(out)

    def items(self, key: str) -> list[_Obj]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise _SchemaError(self.at(key), "must be a list")
        return [_Obj(item, f"{self.at(key)}[{i}]") for i, item in enumerate(value)]

    def source(self, *, rule: bool) -> tuple[str, str]:
        """The ``source`` and ``verification`` pair; rules may not rest on U facts."""
        source = self.text("source")
        verification = self.choice("verification", VERIFICATIONS)
        if rule and verification not in RULE_VERIFICATIONS:
            raise _SchemaError(
                self.at("verification"),
                "unverified (U) facts must not become rules; verify the fact or leave it out",
            )
        return source, verification

    def done(self) -> None:
        extra = sorted(str(k) for k in self.data if str(k) not in self.used)
        if extra:
            raise _SchemaError(self.at(extra[0]), "unknown field (check the spelling)")


def _decimal(value: object, path: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, (bool, float)):
        raise _SchemaError(path, "must be a whole number or a quoted decimal, never a float")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation as exc:
            raise _SchemaError(path, f"not a number: {value!r}") from exc
        if not number.is_finite():
            raise _SchemaError(path, "must be a finite number")
    else:
        raise _SchemaError(path, "must be a number")
    if positive and number <= 0:
        raise _SchemaError(path, "must be greater than 0")
    return number


def _not_compiled(obj: _Obj, key: str, compiled: bool) -> bool:
    """True if the field says ``not_compiled`` (refused when the medicine is compiled)."""
    if obj.raw(key, required=True) != NOT_COMPILED:
        return False
    if compiled:
        raise _SchemaError(obj.at(key), "is not_compiled, but the medicine's status is compiled")
    return True


def _parse_medicine(data: object, filename: str) -> MedicineKnowledge:
    top = _Obj(data, "")
    version = top.integer("schema_version", minimum=1)
    if version != SCHEMA_VERSION:
        raise _SchemaError("schema_version", f"must be {SCHEMA_VERSION}; got {version}")
    name = top.text("name")
    if name != name.lower() or f"{name}.yaml" != filename:
        raise _SchemaError(
            "name", f"must be the lower-case generic name matching the file name; got {name!r}"
        )
    status = top.choice("status", ("compiled", NOT_COMPILED))
    compiled = status == "compiled"
    reason = top.text("not_compiled_reason", required=not compiled)

    atc = None
    if not _not_compiled(top, "atc_code", compiled):
        o = _Obj(top.raw("atc_code"), "atc_code")
        atc = AtcCode(o.text("value"), *o.source(rule=False))
        o.done()

    mechanism = None
    if not _not_compiled(top, "mechanism", compiled):
        mechanism = _sourced_text(_Obj(top.raw("mechanism"), "mechanism"), rule=False)

    legal = None
    if top.raw("legal_status", required=False) is not None:
        legal = _sourced_text(_Obj(top.raw("legal_status"), "legal_status"), rule=True)

    forms: tuple[DosageForm, ...] = ()
    if not _not_compiled(top, "forms", compiled):
        forms = tuple(_form(o) for o in top.items("forms"))
        if compiled and not forms:
            raise _SchemaError("forms", "a compiled medicine needs at least one form")

    divided = None
    if top.raw("divided_doses", required=False) is not None and not _not_compiled(
        top, "divided_doses", compiled
    ):
        o = _Obj(top.raw("divided_doses"), "divided_doses")
        divided = DividedDoses(o.decimal("above_daily_mg"), o.text("text"), *o.source(rule=True))
        o.done()

    licensing = tuple(_guidance(o) for o in top.items("licensing"))

    titrations: tuple[Titration, ...] = ()
    if not _not_compiled(top, "titrations", compiled):
        titrations = tuple(_titration(o) for o in top.items("titrations"))

    max_dose = None
    if not _not_compiled(top, "max_daily_dose", compiled):
        o = _Obj(top.raw("max_daily_dose"), "max_daily_dose")
        max_dose = DoseLimit(o.decimal("daily_mg"), o.text("text"), *o.source(rule=True))
        o.done()

    advisory = tuple(_advisory(o) for o in top.items("advisory_limits"))

    contraindications: tuple[Contraindication, ...] = ()
    if not _not_compiled(top, "contraindications", compiled):
        contraindications = tuple(_contraindication(o) for o in top.items("contraindications"))

    cautions = tuple(_caution(o) for o in top.items("cautions"))

    interactions: tuple[InteractionRule, ...] = ()
    if not _not_compiled(top, "interactions", compiled):
        interactions = tuple(_interaction(o) for o in top.items("interactions"))

    adverse: tuple[AdverseEffect, ...] = ()
    if not _not_compiled(top, "adverse_effects", compiled):
        adverse = tuple(_adverse(o) for o in top.items("adverse_effects"))

    rules: tuple[SymptomRule, ...] = ()
    if not _not_compiled(top, "symptom_rules", compiled):
        rules = tuple(_symptom_rule(o) for o in top.items("symptom_rules"))

    withdrawal = None
    if not _not_compiled(top, "withdrawal", compiled):
        o = _Obj(top.raw("withdrawal"), "withdrawal")
        withdrawal = Withdrawal(o.texts("symptoms"), o.text("text"), *o.source(rule=True))
        o.done()

    taper = None
    if not _not_compiled(top, "taper", compiled):
        taper = _taper(_Obj(top.raw("taper"), "taper"))

    missed = None
    if not _not_compiled(top, "missed_dose", compiled):
        o = _Obj(top.raw("missed_dose"), "missed_dose")
        missed = MissedDoseRules(
            o.text("once_daily"),
            o.integer("once_daily_threshold_hours", minimum=1),
            o.text("other"),
            o.text("note"),
            *o.source(rule=True),
        )
        o.done()

    monitoring: tuple[MonitoringItem, ...] = ()
    if not _not_compiled(top, "monitoring", compiled):
        monitoring = tuple(_monitoring(o) for o in top.items("monitoring"))

    medicine = MedicineKnowledge(
        name=name,
        display_name=top.text("display_name"),
        status=status,
        file=filename,
        not_compiled_reason=reason,
        drug_class=top.text("drug_class"),
        aliases=top.texts("aliases"),
        brand_names=top.texts("brand_names"),
        brand_names_source=top.text("brand_names_source", required=False),
        atc_code=atc,
        mechanism=mechanism,
        legal_status=legal,
        forms=forms,
        divided_doses=divided,
        licensing=licensing,
        titrations=titrations,
        max_daily_dose=max_dose,
        advisory_limits=advisory,
        contraindications=contraindications,
        cautions=cautions,
        interactions=interactions,
        adverse_effects=adverse,
        symptom_rules=rules,
        withdrawal=withdrawal,
        taper=taper,
        missed_dose=missed,
        monitoring=monitoring,
    )
    if medicine.brand_names and not medicine.brand_names_source:
        raise _SchemaError(
            "brand_names_source", "missing required field (brand names need a source)"
        )
    top.done()
    return medicine


def _sourced_text(o: _Obj, *, rule: bool) -> SourcedText:
    value = SourcedText(o.text("text"), *o.source(rule=rule))
    o.done()
    return value


def _form(o: _Obj) -> DosageForm:
    raw = o.raw("strengths_mg")
    if not isinstance(raw, list) or not raw:
        raise _SchemaError(o.at("strengths_mg"), "must be a non-empty list of whole mg")
    strengths: list[int] = []
    for i, s in enumerate(raw):
        if isinstance(s, bool) or not isinstance(s, int) or s <= 0:
            raise _SchemaError(
                f"{o.at('strengths_mg')}[{i}]", "must be a whole number of mg above 0"
            )
        strengths.append(s)
    if strengths != sorted(set(strengths)):
        raise _SchemaError(o.at("strengths_mg"), "must be ascending without repeats")
    whole = o.raw("whole_only")
    if not isinstance(whole, bool):
        raise _SchemaError(o.at("whole_only"), "must be true or false")
    value = DosageForm(
        o.text("form"),
        tuple(strengths),
        whole,
        o.text("administration"),
        o.text("note", required=False),
        *o.source(rule=True),
    )
    o.done()
    return value


def _guidance(o: _Obj) -> GuidanceStatement:
    value = GuidanceStatement(
        o.text("code"), o.text("text"), o.texts("condition_terms"), *o.source(rule=True)
    )
    o.done()
    return value


def _titration(o: _Obj) -> Titration:
    steps: list[TitrationStep] = []
    for s in o.items("steps"):
        steps.append(TitrationStep(s.integer("day"), s.decimal("daily_dose_mg")))
        s.done()
    if not steps or steps[0].day != 0:
        raise _SchemaError(o.at("steps"), "must start with a step on day 0")
    if any(b.day <= a.day for a, b in itertools.pairwise(steps)):
        raise _SchemaError(o.at("steps"), "days must increase")
    value = Titration(
        o.text("indication"),
        o.texts("condition_terms"),
        tuple(steps),
        o.text("text"),
        *o.source(rule=True),
    )
    o.done()
    return value


def _advisory(o: _Obj) -> AdvisoryLimit:
    value = AdvisoryLimit(
        o.text("code"),
        o.decimal("daily_mg"),
        o.texts("condition_terms"),
        o.text("text"),
        *o.source(rule=True),
    )
    o.done()
    return value


def _contraindication(o: _Obj) -> Contraindication:
    kind = o.choice("kind", CONTRAINDICATION_KINDS)
    crcl = None
    if kind == "renal":
        crcl = o.decimal("crcl_below")
    value = Contraindication(
        o.text("code"),
        kind,
        o.text("text"),
        o.texts("condition_terms"),
        o.choice("applies_at", APPLIES_AT),
        crcl,
        *o.source(rule=True),
    )
    o.done()
    return value


def _caution(o: _Obj) -> Caution:
    value = Caution(
        o.text("code"), o.text("text"), o.texts("condition_terms"), *o.source(rule=True)
    )
    o.done()
    return value


def _interaction(o: _Obj) -> InteractionRule:
    raw = o.raw("members")
    if not isinstance(raw, list) or not raw:
        raise _SchemaError(o.at("members"), "must be a non-empty list")
    members: list[DrugName] = []
    for i, item in enumerate(raw):
        path = f"{o.at('members')}[{i}]"
        if isinstance(item, str) and item.strip():
            members.append(DrugName(item.strip()))
        else:
            m = _Obj(item, path)
            members.append(DrugName(m.text("name"), m.texts("aliases", required=False)))
            m.done()
    value = InteractionRule(
        id=o.text("id"),
        label=o.text("label"),
        members=tuple(members),
        class_terms=o.texts("class_terms"),
        severity=o.choice("severity", SEVERITIES),
        effect=o.text("effect"),
        action=o.text("action"),
        rationale=o.text("rationale"),
        source=o.text("source"),
        verification=o.source(rule=True)[1],
    )
    o.done()
    return value


def _adverse(o: _Obj) -> AdverseEffect:
    frequency = o.choice("frequency", (*FREQUENCY_BANDS, FREQUENCY_NOT_VERIFIED))
    source, verification = o.source(rule=False)
    if verification == "U" and frequency != FREQUENCY_NOT_VERIFIED:
        raise _SchemaError(
            o.at("frequency"), f"the band is unverified (U): write {FREQUENCY_NOT_VERIFIED!r}"
        )
    if verification in ("V", "P") and frequency == FREQUENCY_NOT_VERIFIED:
        raise _SchemaError(o.at("frequency"), "a verified band must be given as the band")
    red_flag = None
    if o.raw("red_flag", required=False) is not None:
        red_flag = o.choice("red_flag", RED_FLAGS)
    value = AdverseEffect(
        name=o.text("name"),
        system=o.text("system"),
        frequency=frequency,
        verification=verification,
        source=source,
        terms=o.texts("terms"),
        red_flag=red_flag,
    )
    o.done()
    return value


def _symptom_rule(o: _Obj) -> SymptomRule:
    levels_obj = _Obj(o.raw("levels"), o.at("levels"))
    levels = TriageLevels(*(levels_obj.choice(s, TRIAGE_LEVELS) for s in REPORTED_SEVERITIES))
    levels_obj.done()
    value = SymptomRule(
        o.text("id"),
        o.text("name"),
        o.texts("terms"),
        levels,
        o.text("advice"),
        *o.source(rule=True),
    )
    if not value.terms:
        raise _SchemaError(o.at("terms"), "must list at least one term")
    o.done()
    return value


def _taper(o: _Obj) -> TaperRules:
    minimum_source = o.text("minimum_source")
    minimum_verification = o.choice("minimum_verification", VERIFICATIONS)
    if minimum_verification not in RULE_VERIFICATIONS:
        raise _SchemaError(
            o.at("minimum_verification"), "unverified (U) facts must not become rules"
        )
    fraction = o.decimal("reduction_fraction")
    low_fraction = o.decimal("low_dose_reduction_fraction")
    for key, value in (
        ("reduction_fraction", fraction),
        ("low_dose_reduction_fraction", low_fraction),
    ):
        if value >= 1:
            raise _SchemaError(o.at(key), "must be below 1 (a proportion of the previous dose)")
    rules = TaperRules(
        minimum_weeks=o.integer("minimum_weeks", minimum=1),
        minimum_text=o.text("minimum_text"),
        minimum_source=minimum_source,
        minimum_verification=minimum_verification,
        reduction_fraction=fraction,
        low_dose_reduction_fraction=low_fraction,
        low_dose_at_or_below_mg=o.decimal("low_dose_at_or_below_mg"),
        step_weeks_minimum=o.integer("step_weeks_minimum", minimum=1),
        watch_days=o.integer("watch_days", minimum=1),
        text=o.text("text"),
        source=o.text("source"),
        verification=o.source(rule=True)[1],
    )
    o.done()
    return rules


def _monitoring(o: _Obj) -> MonitoringItem:
    value = MonitoringItem(o.text("parameter"), o.text("when"), *o.source(rule=True))
    o.done()
    return value
