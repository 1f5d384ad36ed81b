"""The action table of a scenario and its masks.

An action is an index into :func:`action_table`: a fixed list of ``(command, target)``
pairs made once from the run's station and crew, each with fixed arguments, plus
``wait`` (index 0: nothing this step). The list is the same for every person; what a
person may do at a moment is its **mask**, :meth:`ActionTable.mask`: an action is allowed
when the command pipeline's authority stage (:func:`issim.control.authority.authorize`,
the stage every command and every dry run goes through) passes it for that person on the
state of the moment. The arguments and targets were validated when the table was made,
so an allowed action is refused by neither validate nor authority when it runs in the
same state; it may still fail at execute (the station's physics: a pressure difference
holding a hatch) or find the state changed by a command that ran before it in the frame.

The table, in order (for ``iss``: 23 volumes, 22 hatches, 6 people, 12 machines, 248 actions):

- ``wait``;
- ``move`` to each volume, ``board`` each vehicle;
- the person's own acts: ``begin_eva``, ``end_eva``, ``clip_tether``, ``unclip_tether``,
  ``stop_work``, ``take_weapon``, ``drop_weapon``, ``take_arm``;
- for each hatch: ``open_hatch``, ``close_hatch``, ``equalize``, ``lock_hatch``,
  ``unlock_hatch``, ``force_hatch``;
- for each person: ``treat``, ``confront`` (to subdue), ``cut_suit_radio``,
  ``restore_suit_radio``;
- the segments' levers: ``stop_desat``/``allow_desat``, ``refuse_burns``/``allow_burns``,
  ``thrusters_off``/``thrusters_on``, ``converters_off``/``converters_on`` (the ROS), and for
  each segment ``power_off``/``power_on``, ``cut_power``/``repair_power``,
  ``block_messages``/``unblock_messages``, ``change_credentials``;
- for each comms link: ``cut_link``, ``restore_link``;
- for each life-support machine: ``disable``, ``repair``;
- for each item: ``take_item``, ``stow_item``; for each vehicle: ``undock``;
- two messages: ``send_message`` to Houston and to Moscow, refusing the order to take
  the station (:data:`REFUSE`; a message goes between a ground and the crew, so this is
  the one thing a person can say through the radio: crewmates talk face to face, which
  the minds model and the command catalogue does not).

Commands that need a free argument the table cannot fix sensibly (``carry``'s
destination, ``hand_over``'s recipient, a burn, an O2 rate, venting) are not in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..control.authority import Situation, authorize
from ..control.commands import CATALOGUE, Command
from ..control.pipeline import _validate

REFUSE = "I will not take control of the station by force. I refuse the order."

_SELF = ("begin_eva", "end_eva", "clip_tether", "unclip_tether", "stop_work", "take_weapon", "drop_weapon")
_HATCH = ("open_hatch", "close_hatch", "equalize", "lock_hatch", "unlock_hatch", "force_hatch")
_PERSON = ("treat", "confront", "cut_suit_radio", "restore_suit_radio")
_ROS = ("stop_desat", "allow_desat", "refuse_burns", "allow_burns", "thrusters_off", "thrusters_on",
        "converters_off", "converters_on")
_SEGMENT = ("power_off", "power_on", "cut_power", "repair_power", "block_messages", "unblock_messages",
            "change_credentials")


@dataclass(frozen=True)
class Action:
    """One entry of the table: ``command`` on ``target`` with ``args`` (``command`` empty
    for ``wait``); ``label`` is how docs and logs name it (``close_hatch zarya-zvezda``)."""

    command: str
    target: str = ""
    args: tuple = ()

    @property
    def label(self) -> str:
        if not self.command:
            return "wait"
        return f"{self.command} {self.target}".strip() + (" (refuse)" if self.command == "send_message" else "")

    def of(self, person: str) -> Optional[Command]:
        """The command ``person`` issues for this action (``None`` for ``wait``)."""
        return Command(self.command, person, self.target, self.args, source="agent") if self.command else None


class ActionTable:
    """The actions of one simulation (see the module); ``len(table)`` is the size of the
    ``Discrete`` action space and ``table[k]`` the :class:`Action` at index ``k``."""

    def __init__(self, sim):
        custody = next((s for s in sim.subsystems if s.name == "control"), None)
        if custody is None:
            raise ValueError("this simulation has no control subsystem, so no one can act in it")
        self.d = d = custody.directory
        world = sim.world
        cand: list[Action] = [Action("")]
        cand += [Action("move", v.id) for v in world.volumes]
        cand += [Action("board", v.id) for v in world.volumes if v.kind == "vehicle"]
        cand += [Action(n) for n in _SELF] + [Action("take_arm")]
        cand += [Action(n, l.hatch) for l in world.links for n in _HATCH]
        cand += [Action(n, p) for p in sim.people for n in _PERSON]
        cand += [Action(n, "ROS") for n in _ROS]
        cand += [Action(n, s) for s in ("USOS", "ROS") for n in _SEGMENT]
        cand += [Action(n, k) for k in d.comms_link_index for n in ("cut_link", "restore_link")]
        cand += [Action(n, m) for m in d.machine_index for n in ("disable", "repair")]
        cand += [Action(n, i) for i in d.item_index for n in ("take_item", "stow_item")]
        cand += [Action("undock", v.id) for v in world.volumes if v.kind == "vehicle"]
        cand += [Action("send_message", g, (("text", REFUSE),)) for g in ("houston", "moscow")]
        # keep what the pipeline's validate stage takes from every person (the name, the
        # target, the arguments, the handling subsystem's own checks); resolve each once
        # (per person: a target of "self" is the actor)
        self.actions: tuple[Action, ...] = ()
        self._resolved: list[list] = [[] for _ in sim.people]  # per person: (index, spec, target, args)
        self._where: list[Optional[tuple]] = []  # the two volumes of a hatch action (see mask)
        kept = []
        for act in cand:
            if not act.command:
                kept.append(act)
                self._where.append(None)
                continue
            spec = CATALOGUE.get(act.command)
            if spec is None:
                continue
            checked = [_validate(sim, sim.state, custody, act.of(p), True) for p in sim.people]
            if not checked or any(refusal is not None for _, refusal in checked):
                continue
            k = len(kept)
            kept.append(act)
            for p, (ctx, _) in enumerate(checked):
                self._resolved[p].append((k, spec, ctx.target, ctx.args))
            target = checked[0][0].target
            self._where.append((d.link_a[target], d.link_b[target])
                               if spec.rule in ("hatch", "lock", "unlock", "force") else None)
        self.actions = tuple(kept)
        self.index = {a.label: k for k, a in enumerate(self.actions)}
        self._key: object = None
        self._masks: dict[int, np.ndarray] = {}
        self.people = tuple(sim.people)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, k: int) -> Action:
        return self.actions[k]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.actions)

    def situation(self, state) -> Situation:
        """What authority reads, read once for all the masks of a moment."""
        return Situation(state, self.d)

    def mask(self, sit: Situation, person: int) -> np.ndarray:
        """``(actions,)`` int8: 1 where ``person`` may take the action now (``wait`` always).

        One call of the authority stage per action, on ``sit``, except two shortcuts that
        give the same answer without asking: someone who cannot act at all (dead,
        unconscious, departed) may only wait; a hatch is worked only from one of its two
        volumes (rules ``hatch``, ``lock``, ``unlock``, ``force``), so the hatches of other
        modules are refused without a call. ``tests/test_rl.py`` holds the masks to the
        pipeline's own dry run.

        Authority reads nothing but the :class:`Situation` (plain lists read from the state
        when it is made) and the run's fixed directory, so the masks of one situation hold
        for the next while every field of it is the same (:func:`situation_key`): they are
        kept, and worked out again only when something authority reads has changed.
        """
        key = getattr(sit, "_rl_key", None)
        if key is None:
            key = sit._rl_key = situation_key(sit)  # once per situation (a private field: not in the key)
        if key != self._key:
            self._key, self._masks = key, {}
        got = self._masks.get(person)
        if got is None:
            got = self._masks[person] = self._mask(sit, person)
        return got.copy()

    def _mask(self, sit: Situation, person: int) -> np.ndarray:
        out = np.zeros(len(self.actions), dtype=np.int8)
        out[0] = 1
        if not (sit.alive[person] and sit.conscious[person]) or sit.gone(person):
            return out
        who = self.d.actors[person]
        here = sit.loc[person]
        where = self._where
        for k, spec, target, args in self._resolved[person]:
            w = where[k]
            if w is not None and here != w[0] and here != w[1]:
                continue
            if authorize(sit, spec, who, target, args) is None:
                out[k] = 1
        return out

    def reasons(self, sit: Situation, person: int) -> list[Optional[str]]:
        """For each action, ``None`` if ``person`` may take it now (as :meth:`mask`), else why
        not: the authority stage's own refusal, or one of the mask's two shortcuts in words.
        What ``issim play`` shows next to a refused command."""
        out: list[Optional[str]] = ["you cannot act"] * len(self.actions)
        out[0] = None
        if not sit.alive[person]:
            return [None] + ["you are dead"] * (len(out) - 1)
        if not sit.conscious[person]:
            return [None] + ["you are unconscious"] * (len(out) - 1)
        if sit.gone(person):
            return [None] + ["you have left the station"] * (len(out) - 1)
        who = self.d.actors[person]
        here = sit.loc[person]
        for k, spec, target, args in self._resolved[person]:
            w = self._where[k]
            if w is not None and here != w[0] and here != w[1]:
                out[k] = "you are not at this hatch"
                continue
            refusal = authorize(sit, spec, who, target, args)
            out[k] = None if refusal is None else refusal.message
        return out


def situation_key(sit: Situation) -> tuple:
    """Everything a :class:`Situation` read from the state, as one hashable value (its
    public fields; the private ones are caches derived from them)."""
    return tuple(_frozen(v) for k, v in sorted(vars(sit).items()) if not k.startswith("_") and k != "d")


def _frozen(v):
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    return v
