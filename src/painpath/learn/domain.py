"""Patient information pages (pure data): plain English, each with its sources.

The wording follows the article the product grew from and ../shared/clinical/reference.md,
corrected where the article is more optimistic than the evidence. Facts marked
unverified in the reference are not stated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    summary: str
    sections: tuple[Section, ...]
    sources: tuple[str, ...]


REF = "PainPath clinical reference"

TOPICS: tuple[Topic, ...] = (
    Topic(
        "back-pain-and-sciatica",
        "Chronic back pain and sciatica",
        "What these words mean, and the warning signs to act on.",
        (
            Section(
                "Chronic back pain",
                (
                    "Back pain is called chronic when it has lasted for more than 12 weeks.",
                    "It is common, and it is real pain even when scans look normal.",
                ),
            ),
            Section(
                "Sciatica",
                (
                    "Sciatica is pain that spreads from the lower back down the back of the "
                    "leg, along the sciatic nerve.",
                    "It can come with tingling, numbness or weakness in the leg.",
                ),
            ),
            Section(
                "Get help now if you notice any of these",
                (
                    "Sciatica in both legs, new weakness or numbness in both legs, difficulty "
                    "starting to pass urine or a change in how it feels, losing control of your "
                    "bladder or bowels, numbness around your back passage or genitals, or new "
                    "problems with erections or ejaculation.",
                    "These can be signs of cauda equina syndrome. Go to A&E now or call 999, and "
                    "say you may have cauda equina syndrome. Do not wait.",
                ),
            ),
        ),
        (
            "Seed article: chronic back pain is pain lasting longer than 12 weeks; sciatica",
            f"{REF} §2.5: cauda equina red flags and actions (NICE CKS Sciatica; GIRFT "
            "national CES pathway; BMJ Best Practice) [V]",
        ),
    ),
    Topic(
        "duloxetine",
        "How duloxetine works",
        "What kind of medicine it is and why it is used for pain.",
        (
            Section(
                "What it is",
                (
                    "Duloxetine is a medicine that raises two chemical messengers in the brain "
                    "and spinal cord, serotonin and noradrenaline. Doctors call it an SNRI.",
                    "It was first used for depression and anxiety. In the UK it is licensed for "
                    "nerve pain caused by diabetes, but not for back pain.",
                ),
            ),
            Section(
                "Using it for back pain",
                (
                    "When it is used for back pain or sciatica in the UK, it is used "
                    "'off-label'. That is allowed, but it is a decision you make together with "
                    "your doctor.",
                    "NICE, which writes guidance for the NHS, advises against medicines like "
                    "duloxetine for low back pain. For sciatica, NICE makes no recommendation "
                    "either way because there was no good evidence.",
                ),
            ),
        ),
        (
            f"{REF} §1.1: SNRI, serotonin and noradrenaline reuptake inhibitor [V]",
            f"{REF} §1.2: UK licensed indications; back pain and sciatica are off-label [V]",
            f"{REF} §2.1: NICE NG59 — do not offer SNRIs for low back pain; no recommendation "
            "for antidepressants in sciatica (research recommendation only) [V]",
        ),
    ),
    Topic(
        "evidence",
        "What the evidence says",
        "How much duloxetine helps on average, honestly.",
        (
            Section(
                "On average, a small extra benefit",
                (
                    "In trials, people taking duloxetine had on average about half a point to "
                    "just under one point less pain on a 0 to 10 scale than people taking a "
                    "dummy pill (placebo).",
                    "About 60 in 100 people on duloxetine had their pain fall by at least a "
                    "third. So did about 48 in 100 people on the dummy pill. Pain often gets "
                    "better over time whatever you take.",
                ),
            ),
            Section(
                "What this means for you",
                (
                    "Some people are helped a lot and some not at all. That is why PainPath "
                    "compares your pain before and after starting, and your doctor reviews it "
                    "with you after about 8 to 12 weeks.",
                    "For sciatica there is very little trial evidence.",
                ),
            ),
        ),
        (
            f"{REF} §4: Konno 2016 −0.46; OA/CLBP meta-analysis −0.67 on 0–10 [V]",
            f"{REF} §4: Alev 2017 pooled trials, ≥30% reduction 59.7% vs 47.8% [V]",
            f"{REF} §4.1: sciatica evidence very limited (one small crossover trial) [V]",
        ),
    ),
    Topic(
        "taking-it",
        "How to take duloxetine",
        "Taking it the same way every day, and what to do if you miss a dose.",
        (
            Section(
                "Every day",
                (
                    "Take it at the same time each day. Swallow the capsule whole. Do not chew, "
                    "crush or open it.",
                    "Only your prescriber changes your dose. If you want a change, ask them: "
                    "PainPath has a button to send a request.",
                ),
            ),
            Section(
                "If you miss a dose",
                (
                    "If you take it once a day, take the missed dose as soon as you remember, "
                    "unless it is less than 12 hours until your next dose. Then skip the missed "
                    "one. Never take two doses to make up for a missed one.",
                    "Missing doses can cause withdrawal symptoms, such as dizziness.",
                ),
            ),
        ),
        (
            f"{REF} §1.3: swallow whole; same time each day (NHS website) [V]",
            f"{REF} §1.10: missed dose (NHS website); missed doses can cause withdrawal "
            "(NICE NG222 1.4.14) [V]",
        ),
    ),
    Topic(
        "side-effects",
        "Side effects and when to get help",
        "Common side effects usually settle; some need help straight away.",
        (
            Section(
                "Common side effects",
                (
                    "The most common are feeling sick, headache, dry mouth, feeling sleepy and "
                    "dizziness. They are usually mild, start early and often settle within the "
                    "first weeks.",
                    "Tell your care team about any side effect using the side effect form.",
                ),
            ),
            Section(
                "Get help straight away if you have",
                (
                    "Thoughts of harming yourself or ending your life: call 999 or go to A&E if "
                    "you might act on them, or call Samaritans free on 116 123.",
                    "Swelling of the face, lips or throat, or trouble breathing; a blistering or "
                    "peeling rash; a fit: call 999.",
                    "Yellow skin or eyes, dark urine, very high blood pressure readings or a "
                    "severe headache, black stools or unusual bleeding, eye pain with blurred "
                    "vision: get urgent medical help the same day.",
                    "Any new difficulty passing urine, or new numbness around your genitals or "
                    "back passage: go to A&E now. Do not assume it is a side effect.",
                ),
            ),
        ),
        (
            f"{REF} §1.6: most commonly reported adverse reactions (Lilly UK MI) [V]",
            f"{REF} §1.7: serious reactions that need urgent action [V]",
            f"{REF} §2.5 software rule 2: urinary or sexual symptoms go through the cauda "
            "equina pathway [V]",
        ),
    ),
    Topic(
        "stopping",
        "Never stop suddenly",
        "Why stopping must be slow, and how a taper works.",
        (
            Section(
                "Why not stop suddenly",
                (
                    "Stopping duloxetine suddenly often causes withdrawal symptoms: dizziness, "
                    "electric-shock feelings, trouble sleeping, feeling sick, anxiety, headache "
                    "and sweating. They are usually mild but can be severe.",
                ),
            ),
            Section(
                "Tapering",
                (
                    "If you and your doctor decide to stop, the dose is lowered step by step "
                    "over at least 1 to 2 weeks, often longer. PainPath shows each step in a "
                    "calendar and what to watch for.",
                    "If the symptoms are hard to bear, tell your care team. They may go back to "
                    "the last dose for a while and then lower it more slowly.",
                ),
            ),
        ),
        (
            f"{REF} §1.9: SmPC — avoid abrupt discontinuation, reduce over at least 1–2 weeks; "
            "withdrawal symptoms (SmPC 4.8) [V]",
            f"{REF} §1.9: NICE NG222 1.4.13–1.4.23 stepwise reduction; return to the previous "
            "dose if severe [V]",
        ),
    ),
    Topic(
        "moving",
        "Exercise, physiotherapy and mindfulness",
        "Keeping active alongside the medicine.",
        (
            Section(
                "Keep moving",
                (
                    "Regular activity such as walking or swimming helps many people with back "
                    "pain. A physiotherapist can give you a programme of exercises.",
                    "Mindfulness, relaxation and yoga help some people cope with pain and stress.",
                    "Log these in PainPath. When we look at whether the medicine helps, we "
                    "count them too, so the medicine does not get the credit for your work.",
                ),
            ),
        ),
        ("Seed article: lifestyle, physiotherapy, mindfulness and relaxation",),
    ),
    Topic(
        "support",
        "Support and crisis lines",
        "Where to find others who understand, and help in a crisis.",
        (
            Section(
                "Support networks",
                (
                    "The British Pain Society, Pain Concern and Versus Arthritis publish "
                    "information for people living with pain. The NHS website has pages on "
                    "back pain, sciatica and living with pain.",
                    "Ask your GP about local pain management groups.",
                ),
            ),
            Section(
                "In a crisis",
                (
                    "If you are in danger now, call 999 or go to A&E.",
                    "For urgent advice, call NHS 111.",
                    "Samaritans are there any time, day or night: call 116 123 for free.",
                ),
            ),
        ),
        (
            "Seed article: support networks such as the British Pain Society",
            f"{REF} §1.7: self-harm — emergency services / A&E / crisis line [V]",
            "Samaritans, 'Contact a Samaritan': 116 123 free from landlines and mobiles",
        ),
    ),
)

DISCLAIMER = (
    "This information supports, and does not replace, advice from your GP, pharmacist or "
    "pain specialist."
)


def topic(slug: str) -> Topic | None:
    return next((t for t in TOPICS if t.slug == slug), None)
