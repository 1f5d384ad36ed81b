"""Work that takes time: how long a command keeps the one who gives it busy.

Most commands are a hand on a switch or a keyboard and take effect in the frame they are
given. Some are work: the command is accepted (``started``), the person is busy until it
is finished (every other command of theirs is refused, ``busy``, but ``stop_work``), and
the effect lands when the work is done, if it still can: the pipeline runs the command's
authority again at that moment (the wounded person must still be there, the helper still
in the airlock), then executes and verifies it. Someone who loses consciousness, dies or
is attacked while working drops the work (``interrupted``). Every start, finish and
interruption is in the command history.

The durations, each with its source in ``iss-facts.md`` (Addendum) or the reasoning behind
an estimate (``docs/crisis.md`` has the same table):

- **A spacewalk from Quest** in the US EMU: the ISLE protocol, about 1 h of oxygen
  prebreathe on masks while Quest is brought down to 10.2 psi and the suits are put on,
  then 50 min of light exercise in the suit (Addendum §1, spaceref/ESA), then the
  crewlock's depressurisation, for which no figure was found: 30 min (estimate, the same
  order as the weak 45-min figure for repressurisation). 2 h 20 min in all. An EMU is not
  put on alone: a second person must be in Quest to help and run the airlock
  (Quest is sized for two; donning "with help", Addendum §1; no written rule found).
- **A spacewalk from Poisk** in the Russian Orlan-MKS: about 30 min of prebreathe
  (Addendum §1) and about 1 h of hatch and leak checks (the first EVA from Poisk, Nov
  2020); the Orlan-MKS is put on without help. 1 h 30 min.
- **First aid** to stop a bleeding wound: 10 min (estimate: fetch the medical kit, pack
  and press the wound, bandage it; pressure held for minutes, not seconds).
- **Putting a machine out of action** by hand: 5 min (estimate: panels off, a cable or
  a pump pulled). **Repairing** it: 90 min (estimate: find the fault, replace the part
  from spares; real ISS repairs of Elektron or the CDRA take hours to days with the
  ground's help).
- **Restoring a cut link** at its hardware: 90 min (estimate: the 19 Feb 2013 outage
  took just under 3 h to restore, with the ground diagnosing it, Addendum §5; the crew
  alone, knowing what was cut, half that).
- **Sabotage and its repair** (``docs/crisis.md``, "Sabotage and its repair"):
  opening a module's vent valve to space, or closing it, 5 min each (estimate: a valve
  behind a panel, as for putting a machine out of action); forcing a hatch locked from
  the other side, 30 min (estimate: driving the latches with tools against what holds
  them); cutting a segment's power at its hardware, 5 min, and repairing it, 1 h 30 min
  (as for a machine); dumping propellant, 10 min to open the valves and then the flow at
  2 kg/s (estimate, see :data:`DUMP_KG_S`); a transfer of propellant from a docked
  Progress, 2 h (estimate: no published figure found).
- **Finding an item** that lies in a module's stowage: 20 min (estimate: the film's
  search of the Russian lockers, B8).
- **Undocking a vehicle** in haste: 3 min to close and check the hatch and command
  the undocking ("a couple of minutes", "within a few minutes", Addendum §4; no
  official figure), then 1.5 min to physical separation (Soyuz MS-11, Addendum §4),
  which :mod:`issim.orbit.descent` counts from the undocking.
- **Recovering someone with the arm**: the arm's tip moves at 37 cm/s unloaded and
  15 cm/s loaded for EVA support (Addendum §3, CSA): out to where it catches the person
  (who may still be moving away), back with them, plus 5 min to capture them and set
  them at the airlock (estimate). It can only if it catches them within its 17.6 m; once
  the arm is on its way it holds them where it catches them.
- **Someone knocked off by the arm** leaves at the tip's 15 cm/s (estimate: the speed of
  the arm that pushed); the ISS jettison guideline of about 5 cm/s for a hand push and the
  Soyuz's 0.12 m/s spring separation (Addendum §2) bracket it. With the EMU's SAFER jets
  (about 3 m/s of velocity change, Addendum §1) and awake, they stop within seconds and
  catch hold of the structure away from the handrails, 12 m from the arm's base
  (estimate): alive, within the arm's reach, but unable to get back to the airlock
  alone. The Orlan has no SAFER: an Orlan wearer knocked off drifts.
"""

from __future__ import annotations

MIN = 60.0

EMU_PREP_S = 60 * MIN + 50 * MIN + 30 * MIN  # ISLE mask prebreathe, in-suit exercise, depress (estimate)
ORLAN_PREP_S = 30 * MIN + 60 * MIN  # prebreathe, hatch and leak checks (Poisk, Nov 2020)
SUIT = {"quest": "EMU", "poisk": "Orlan"}  # the suit each EVA airlock keeps
PREP_S = {"quest": EMU_PREP_S, "poisk": ORLAN_PREP_S}  # by airlock, for its suit
EMU_AIRLOCKS = frozenset(v for v, suit in SUIT.items() if suit == "EMU")  # put on with help; SAFER worn
TREAT_S = 10 * MIN
DISABLE_S = 5 * MIN
REPAIR_S = 90 * MIN
RESTORE_LINK_S = 90 * MIN
SEARCH_S = 20 * MIN
UNDOCK_S = 3 * MIN
VENT_S = 5 * MIN  # open or close a module's vent valve by hand (estimate, as DISABLE_S)
FORCE_HATCH_S = 30 * MIN  # undo a lock from the far side with tools (estimate)
CUT_POWER_S = DISABLE_S  # cables pulled, a converter taken out (estimate)
REPAIR_POWER_S = REPAIR_S
DUMP_SETUP_S = 10 * MIN  # panels off, the valves of the lines opened by hand (estimate)
# Unburnt propellant through a line of about 1 cm² under about 0.5 MPa of tank pressure:
# Cd A sqrt(2 ρ Δp) = 0.61 x 1e-4 m² x sqrt(2 x 1,150 kg/m³ x 5e5 Pa) ≈ 2.1 kg/s (estimate;
# ρ the mean of UDMH 790 and N2O4 1,440 at a 1:1.85 mass ratio; no published figure).
DUMP_KG_S = 2.0
TRANSFER_S = 2 * 60 * MIN  # refuelling from a docked Progress (estimate: no figure found)


def dump_s(kg: float) -> float:
    """How long dumping ``kg`` of propellant takes: the valves opened, then the flow."""
    return DUMP_SETUP_S + max(kg, 0.0) / DUMP_KG_S

# The arm and people off the structure (Addendum §2, §3).
ARM_REACH_M = 17.6  # Canadarm2's length (17 m in the CSA's own table)
ARM_TIP_M_S = 0.15  # loaded tip speed for EVA support (CSA)
ARM_FREE_M_S = 0.37  # unloaded tip speed (CSA): how fast it goes out to someone
ARM_CAPTURE_S = 5 * MIN  # estimate
PUSH_M_S = ARM_TIP_M_S  # a person knocked off by the arm leaves at the tip's speed (estimate)
SAFER_DV_M_S = 3.0  # the EMU's SAFER jet pack (Addendum §1); the Orlan has none (estimate: none in the sheet)
SAFER_REACT_S = 10.0  # from the push to the jets firing (estimate)
HOLD_AT_M = 12.0  # where a SAFER user catches the structure off the handrail path, an array's mast (estimate)


def arm_catch_m(distance_m: float, speed_m_s: float) -> float:
    """Where the arm, going out unloaded, catches someone ``distance_m`` from its base who
    moves away at ``speed_m_s`` (infinite if it never can)."""
    if speed_m_s <= 0.0:
        return distance_m
    if speed_m_s >= ARM_FREE_M_S:
        return float("inf")
    return distance_m * ARM_FREE_M_S / (ARM_FREE_M_S - speed_m_s)


def arm_recover_s(distance_m: float, speed_m_s: float = 0.0) -> float:
    """How long the arm takes to bring in someone ``distance_m`` from its base moving away
    at ``speed_m_s``: out unloaded to where it catches them, back loaded, and the capture."""
    caught = arm_catch_m(distance_m, speed_m_s)
    return caught / ARM_FREE_M_S + caught / ARM_TIP_M_S + ARM_CAPTURE_S


def minutes(seconds: float) -> str:
    """``"2 h 20 min"``, ``"10 min"``, ``"45 s"``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    h, m = divmod(s // 60, 60)
    return f"{h} h {m} min" if h and m else f"{h} h" if h else f"{m} min"


# What each command's work takes, in words (for the catalogue: docs/commands.md, issim commands, the browser).
WORK_TEXT = {
    "begin_eva": f"{minutes(EMU_PREP_S)} from Quest (EMU, with help), {minutes(ORLAN_PREP_S)} from Poisk (Orlan)",
    "treat": minutes(TREAT_S),
    "disable": minutes(DISABLE_S),
    "repair": minutes(REPAIR_S),
    "restore_link": minutes(RESTORE_LINK_S),
    "take_item": f"{minutes(SEARCH_S)} to find it where it lies; none from a person",
    "undock": minutes(UNDOCK_S),
    "vent_module": minutes(VENT_S),
    "close_vent": minutes(VENT_S),
    "force_hatch": minutes(FORCE_HATCH_S),
    "cut_power": minutes(CUT_POWER_S),
    "repair_power": minutes(REPAIR_POWER_S),
    "dump_propellant": f"{minutes(DUMP_SETUP_S)} to open the valves, then {DUMP_KG_S:g} kg/s",
    "transfer_propellant": minutes(TRANSFER_S),
    "operate_arm": "recover: out at 37 cm/s, back at 15 cm/s, 5 min to capture; push: none",
}
