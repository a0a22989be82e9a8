"""Side-effect triage: a reported symptom and its severity → a level and advice.

Order of checks (first match wins for the two safety pathways):

1. **Cauda equina red flags.** Any new urinary, bowel-control or sexual symptom, or
   numbness around the genitals or back passage, or symptoms in both legs, goes down
   the cauda equina pathway: ``emergency``, "go to A&E now / call 999". Duloxetine can
   cause urinary hesitancy and sexual dysfunction, but in a person with back pain or
   sciatica such a symptom is never explained away as a side effect (reference §1.7,
   §2.5 software rule 2). These patterns are built in here, not read from a knowledge
   file, so an edited file cannot switch them off.
2. **Suicidal thoughts or self-harm** → ``emergency`` with crisis signposting.
3. The medicine's catalogue: serious-reaction rules (level per reported severity) and
   known adverse effects (mild → self-care, moderate → routine, severe → urgent). The
   most urgent match wins. Severe but non-serious effects are ``urgent`` rather than
   ``routine`` because a severe effect usually needs a same-day dose decision and
   several common effects, when severe, overlap with serious reactions (headache with
   hypertensive crisis, dizziness with falls, vomiting with dehydration or low sodium,
   diarrhoea and nausea with serotonin syndrome).
4. Free text that matches nothing: ``urgent`` if severe, otherwise ``routine`` (a
   clinician looks at it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import (
    FREQUENCY_NOT_VERIFIED,
    REPORTED_SEVERITIES,
    TRIAGE_LEVELS,
    AdverseEffect,
    KnowledgeBase,
    MedicineKnowledge,
    SymptomRule,
    load_knowledge,
)
from painpath.medication.domain.prescribing import find_medicine

LEVEL_RANK: Final = {level: rank for rank, level in enumerate(TRIAGE_LEVELS)}
MAX_SYMPTOM_LENGTH: Final = 2000

CAUDA_EQUINA_SOURCE: Final = (
    "NICE CKS Sciatica (lumbar radiculopathy) red flags (2018, with the Medical Protection "
    "Society); GIRFT national cauda equina pathway (new or worsening sexual dysfunction); BMJ "
    "Best Practice, cauda equina syndrome (immediate hospital referral, MRI within 4 hours); "
    "clinical reference §1.7 (urinary retention row) and §2.5 software rules 1-2"
)
CRISIS_SOURCE: Final = (
    "Cymbalta PIL (emc) and HeadMeds: new or worse thoughts of self-harm or suicide need "
    "same-day urgent help (clinical reference §1.7); Samaritans helpline 116 123"
)
COMMON_SETTLE_SOURCE: Final = (
    "Lilly UK Medical Information, Cymbalta undesirable effects: common reactions are mostly "
    "mild to moderate, start early and tend to subside with continued treatment (clinical "
    "reference §1.6)"
)
UNMATCHED_SOURCE: Final = (
    "PainPath triage rule: a symptom that matches no known side effect or red flag is reviewed "
    "by a clinician (urgent if reported as severe)"
)

_SENSORY = (
    r"(?:numb\w*|tingl\w*|pins and needles|no feeling|no sensation|cant feel|cannot feel"
    r"|(?:loss of|lost|altered|reduced) (?:sensation|feeling))"
)
_SADDLE = r"(?:groin|my bottom|buttocks?|inner thighs?|between (?:my |the )?legs|saddle)"
_DIFFICULTY = (
    r"(?:cant|cannot|can not|unable to|trouble|difficulty|difficult|hard to|struggl\w*|problems?)"
)

# Patterns run on text normalised by _normalise (lower case, apostrophes removed,
# punctuation as spaces). Word boundaries stop "peeling" matching "pee".
CAUDA_EQUINA_PATTERNS: Final = tuple(
    re.compile(p)
    for p in (
        # bladder and passing urine
        r"\burin\w*",
        r"\bbladder\w*",
        r"\b(?:pee|pees|peeing|peed|wees|weeing|weed myself)\b",
        r"\bwee\b(?! (?:bit|while|thing|one|ones|bairn|boy|girl|amount|little|hours))",
        r"\bpass(?:ing)? water\b",
        r"\bincontinen\w*",
        r"\bhesitancy\b",
        r"\bdribbl\w*",
        r"\bwet (?:myself|himself|herself|themselves|the bed)\b",
        r"\bwetting\b",
        r"\bmicturition\b",
        r"\b(?:dysuri\w*|pollakiuri\w*|nocturia|anuria|haematuria|hematuria)\b",
        rf"\b{_DIFFICULTY}\b.*\b(?:go(?:ing)? to the toilet|toilet)\b",
        # bowel control and back passage
        r"\b(?:bowel|bowels)\b.*\b(?:control|accident\w*|incontinen\w*|leak\w*)\b",
        r"\b(?:control|accident\w*|leak\w*)\b.*\bbowels?\b",
        r"\bsoil(?:ed|ing)\b",
        r"\b(?:back passage|anus|anal|rectum|rectal|perianal|perine\w*)\b",
        # genitals and saddle area
        r"\b(?:genital\w*|vagina\w*|vulva\w*|penis|scrotum|testicl\w*|private parts|privates)\b",
        r"\bsaddle\b",
        rf"\b{_SENSORY}\b.*\b{_SADDLE}\b",
        rf"\b{_SADDLE}\b.*\b{_SENSORY}\b",
        # sexual function
        r"\b(?:erect\w*|impoten\w*|\w*ejaculat\w*|\w*orgasm\w*|climax\w*)\b",
        r"\b(?:libido|sex drive|sexual\w*|sex)\b",
        # both legs
        r"\bbilateral\b",
        r"\bboth (?:my )?legs\b",
        r"\blegs? (?:are |is |keep )?(?:giving way|gave way)\b",
    )
)

# Colour changes of urine are a liver warning sign (clinical reference §1.7), not a
# problem passing urine: they are taken out before the cauda equina check only.
_URINE_COLOUR = re.compile(
    r"\b(?:dark|darker|brown|tea coloured|cola coloured|dark coloured) (?:urine|wee|pee)\b"
)

CRISIS_PATTERNS: Final = tuple(
    re.compile(p)
    for p in (
        r"\bsuicid\w*",
        r"\bkill(?:ing)? (?:myself|my self)\b",
        r"\bend(?:ing)? (?:my life|it all|my own life)\b",
        r"\btak(?:e|ing) my (?:own )?life\b",
        r"\bself harm\w*",
        r"\bselfharm\w*",
        r"\b(?:harm|harming|hurt|hurting|cut|cutting) myself\b",
        r"\bbetter off dead\b",
        r"\bwant(?:ed)? to die\b",
        r"\bwish i (?:was|were) dead\b",
        r"\b(?:dont|do not) want to (?:live|be alive|be here|wake up)\b",
        r"\bno reason to live\b",
        r"\boverdose\w*",
    )
)


def _normalise(text: str) -> str:
    folded = text.casefold().replace("\u2019", "'").replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    words = _normalise(term.rstrip("*"))
    suffix = r"\w*" if term.endswith("*") else ""
    return re.compile(rf"(?<![a-z0-9]){re.escape(words)}{suffix}(?![a-z0-9])")


def _mentions(text: str, terms: tuple[str, ...]) -> bool:
    return any(_term_pattern(t).search(text) for t in terms)


def is_cauda_equina_symptom(symptom: str) -> bool:
    """True if the text describes a symptom that must go down the cauda equina pathway."""
    text = _URINE_COLOUR.sub(" ", _normalise(symptom))
    return any(p.search(text) for p in CAUDA_EQUINA_PATTERNS)


def is_crisis_symptom(symptom: str) -> bool:
    """True if the text mentions suicidal thoughts or self-harm."""
    text = _normalise(symptom)
    return any(p.search(text) for p in CRISIS_PATTERNS)


@dataclass(frozen=True)
class Triage:
    level: str
    advice: str
    source: str
    pathway: str
    matched: tuple[str, ...] = ()

    @property
    def alert_care_team(self) -> bool:
        """Urgent and emergency reports reach the care team at once."""
        return LEVEL_RANK[self.level] >= LEVEL_RANK["urgent"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "advice": self.advice,
            "source": self.source,
            "pathway": self.pathway,
            "matched": list(self.matched),
            "alert_care_team": self.alert_care_team,
        }


def triage(
    symptom: str,
    severity: str,
    medicine: MedicineKnowledge | str = "duloxetine",
    *,
    knowledge: KnowledgeBase | None = None,
) -> Triage:
    """Triage a reported symptom (free text or a catalogue name) and its severity."""
    if not isinstance(symptom, str) or not symptom.strip():
        raise InvalidInput("describe the symptom", field="symptom")
    if len(symptom) > MAX_SYMPTOM_LENGTH:
        raise InvalidInput(f"must be at most {MAX_SYMPTOM_LENGTH} characters", field="symptom")
    if severity not in REPORTED_SEVERITIES:
        raise InvalidInput(
            f"must be one of {', '.join(REPORTED_SEVERITIES)}; got {severity!r}", field="severity"
        )
    med = (
        medicine
        if isinstance(medicine, MedicineKnowledge)
        else find_medicine(medicine, knowledge or load_knowledge())
    )

    if is_cauda_equina_symptom(symptom):
        return _cauda_equina(symptom)
    if is_crisis_symptom(symptom):
        return Triage(
            level="emergency",
            advice=(
                "If you are having thoughts of ending your life or harming yourself, get help now. "
                "If you might act on them or cannot keep yourself safe, call 999 or go to A&E now. "
                "You can talk to Samaritans at any time, day or night, free on 116 123. Your care "
                "team has been alerted."
            ),
            source=CRISIS_SOURCE,
            pathway="crisis",
        )

    text = _normalise(symptom)
    rules = [r for r in med.symptom_rules if _mentions(text, r.terms)]
    effects = [e for e in med.adverse_effects if _mentions(text, e.terms)]
    if any(e.red_flag == "cauda_equina" for e in effects):
        return _cauda_equina(symptom)

    candidates: list[tuple[int, int, Triage]] = []
    for rule in rules:
        candidates.append(
            (LEVEL_RANK[rule.levels.for_severity(severity)], 1, _from_rule(rule, severity))
        )
    for effect in effects:
        result = _from_effect(med, effect, severity)
        candidates.append((LEVEL_RANK[result.level], 0, result))
    if candidates:
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        best = candidates[0][2]
        matched = tuple(dict.fromkeys(m for c in candidates for m in c[2].matched))
        return Triage(best.level, best.advice, best.source, best.pathway, matched)

    level = "urgent" if severity == "severe" else "routine"
    catalogue = "" if med.compiled else f" PainPath has no side-effect list for {med.name} yet."
    advice = (
        "We could not match this to a known side effect, so a clinician from your care team "
        f"will look at it{' today' if level == 'urgent' else ''}.{catalogue} Keep taking your "
        "medicine as prescribed unless a clinician tells you otherwise. If you feel very unwell "
        "or it gets worse quickly, call 999 or go to A&E."
    )
    return Triage(level, advice, UNMATCHED_SOURCE, "unrecognised")


def _cauda_equina(symptom: str) -> Triage:
    return Triage(
        level="emergency",
        advice=(
            "Possible cauda equina syndrome: go to A&E now or call 999. Tell them you have back "
            f"pain or sciatica and new symptoms ({symptom.strip()[:200]}), and that you may have "
            "cauda equina syndrome. Do not wait to see if it gets better and do not assume it is "
            "a side effect of your medicine: it needs to be checked within hours. Your care team "
            "has been alerted."
        ),
        source=CAUDA_EQUINA_SOURCE,
        pathway="cauda-equina",
        matched=("possible cauda equina syndrome",),
    )


def _from_rule(rule: SymptomRule, severity: str) -> Triage:
    return Triage(
        level=rule.levels.for_severity(severity),
        advice=rule.advice,
        source=rule.source,
        pathway="serious-reaction",
        matched=(rule.name,),
    )


def _from_effect(med: MedicineKnowledge, effect: AdverseEffect, severity: str) -> Triage:
    name = effect.name[0].upper() + effect.name[1:]
    if effect.frequency == FREQUENCY_NOT_VERIFIED:
        known = f"{name} is a known side effect of {med.name}."
    else:
        known = f"{name} is a {effect.frequency} side effect of {med.name}."
    common = effect.frequency in ("very common", "common")
    source = effect.source
    if severity == "mild":
        level = "self-care"
        if common:
            advice = (
                f"{known} Common side effects are usually mild to moderate, start early and often "
                "settle within the first weeks of treatment. Keep taking your medicine as "
                "prescribed and do not change the dose yourself. Tell your care team if it does "
                "not settle, gets worse or worries you."
            )
            source = f"{effect.source}; {COMMON_SETTLE_SOURCE}"
        else:
            advice = (
                f"{known} Keep taking your medicine as prescribed and do not change the dose "
                "yourself. Mention it to your care team at your next contact, or sooner if it gets "
                "worse."
            )
    elif severity == "moderate":
        level = "routine"
        advice = (
            f"{known} Your care team will review this at their next routine check. Keep taking "
            "your medicine as prescribed and do not stop it suddenly; contact them sooner if it "
            "gets worse."
        )
    else:
        level = "urgent"
        advice = (
            f"{known} Because you rated it as severe, contact your care team or GP today: a severe "
            "side effect may need a dose change, and some severe symptoms can be a sign of a more "
            "serious reaction. Do not stop your medicine suddenly without advice. If you feel very "
            "unwell, call 999 or go to A&E."
        )
    return Triage(level, advice, source, "adverse-effect", (effect.name,))
