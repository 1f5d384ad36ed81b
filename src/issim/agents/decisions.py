"""Decision points as named parameters: a scenario's ``[decisions]`` table.

Each key is named after a decision point of the film (``shared/reference/film-scenario.md``
§4, D1-D13) and is fixed to one of its choices, or to ``"chance"``: then it is drawn, when
the decision comes, from the deciding person's own random stream (``agents.<name>``), with
the probability given here from their traits. A key the scenario leaves out is
``"chance"``.

The keys and their choices are :data:`DECISIONS`; who meets each decision, when, and what
each choice leads to is :mod:`issim.agents.crisis` (D3-D13) and :mod:`issim.agents.mind`
(D1, D2: comply with probability = loyalty; disclose with probability = solidarity x
(1 - loyalty); ``d1_means`` / ``d2_means``: a covert plan, the lure, or the standoff's
open levers).
"""

from __future__ import annotations

from typing import Optional

CHANCE = "chance"

# key -> (the ground whose order it concerns, or "" when not yet used; the choices)
DECISIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "d1_comply": ("houston", ("comply", "refuse")),
    "d1_disclose_order": ("houston", ("keep", "disclose")),
    "d1_means": ("houston", ("covert", "overt")),
    "d2_comply": ("moscow", ("comply", "refuse")),
    "d2_disclose_order": ("moscow", ("keep", "disclose")),
    "d2_means": ("moscow", ("lure", "overt")),
    "d3_eva": ("", ("go", "refuse", "tethered", "send-other")),
    "d4_cut_radio": ("", ("cut", "refuse", "warn")),
    "d5_arm_strike": ("", ("strike", "hold-back", "strand")),
    "d5_reconsider": ("", ("strand", "hold-back")),
    "d6_defect": ("", ("loyal", "defect")),
    "d7_trust": ("", ("trust", "refuse", "neutral")),
    "d7_reconsider": ("", ("trust", "refuse", "neutral")),
    "d8_deal_with_nika": ("", ("kill", "restrain")),
    "d9_save_gordon": ("", ("save", "leave", "stand-aside")),
    "d10_retaliate": ("", ("attack", "stand-down", "detain")),
    "d11_keep_faith": ("", ("cooperate", "betray", "leave-together")),
    "d12_stop_christian": ("", ("kill", "disarm", "lock-out")),
    "d13_leave": ("", ("leave", "report-usa", "report-russia", "wait", "stay")),
    # Not the film's: turns the minds can take (issim.agents.turns).
    "answer_disclosure": ("", ("disclose", "keep")),
    "offer_truce": ("", ("offer", "hold")),
    "answer_truce": ("", ("accept", "refuse")),
    "escalate": ("", ("force", "sabotage", "wait")),
    "flee": ("", ("leave", "stay")),
}
IMPLEMENTED = tuple(DECISIONS)

# key -> the decision in a few words, for people (what `issim endings` and `issim diff` show beside the key);
# who meets each one, and what each choice leads to, is in issim.agents.crisis and issim.agents.mind.
QUESTIONS: dict[str, str] = {
    "d1_comply": "obey Houston's order?",
    "d1_disclose_order": "tell of Houston's order?",
    "d1_means": "Houston's order: how?",
    "d2_comply": "obey Moscow's order?",
    "d2_disclose_order": "tell of Moscow's order?",
    "d2_means": "Moscow's order: how?",
    "d3_eva": "go on the spacewalk?",
    "d4_cut_radio": "cut the spacewalker's radio?",
    "d5_arm_strike": "strike with the arm?",
    "d5_reconsider": "they stay clipped on: lock them out?",
    "d6_defect": "defect to the other side?",
    "d7_trust": "trust the defector?",
    "d7_reconsider": "the defector killed: trust her now?",
    "d8_deal_with_nika": "the defector: what to do?",
    "d9_save_gordon": "save the one pushed off?",
    "d10_retaliate": "answer the one who struck?",
    "d11_keep_faith": "keep faith, or betray?",
    "d12_stop_christian": "stop the betrayer: how?",
    "d13_leave": "leave, report or wait?",
    "answer_disclosure": "the other side told of its orders: tell of ours?",
    "offer_truce": "the station has not fallen: offer to stand down?",
    "answer_truce": "accept the other side's truce?",
    "escalate": "the deadline nears: take the station by force?",
    "flee": "leave in the vehicle before it is too late?",
}


def check_decisions(decisions: dict) -> Optional[tuple[str, str]]:
    """``(key, one-line problem)`` for the first bad entry, else ``None``."""
    for key, value in decisions.items():
        if key not in DECISIONS:
            return key, f"no decision point {key!r}; decision points: {', '.join(DECISIONS)}"
        choices = DECISIONS[key][1]
        if value != CHANCE and value not in choices:
            return key, f"{value!r} is not a choice of {key}; choose one of {', '.join(choices)} or \"chance\""
    return None


def key_for(ground: str, what: str) -> Optional[str]:
    """The decision key for ``what`` (``comply``, ``disclose_order``) of an order from ``ground``."""
    prefix = {"houston": "d1", "moscow": "d2"}.get(ground)
    return f"{prefix}_{what}" if prefix else None
