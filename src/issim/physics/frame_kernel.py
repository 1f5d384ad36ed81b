"""The physics of a quiet frame as one compiled call (numba): :mod:`issim.physics.frame` runs it.

:func:`physics_frame` calls the subsystems' own kernels (power, crew, life support, comms,
atmosphere) in the engine's order, with the compiled quiet path of attitude and propulsion
between them, and stops at the first subsystem that needs Python: a kernel that reports
something to log or to do (its non-zero code), or a subsystem whose frame is not the quiet
one. It returns where it stopped and that subsystem's code, packed as ``stage * 256 +
code`` (:data:`DONE` when every subsystem ran quietly). A stage of :data:`AFTER` ran its
kernel and wrote the state, and its Python part takes over from there; a stage of
:data:`BEFORE` wrote nothing, and its whole ``update`` runs in Python.

Each argument tuple is the subsystem's kernel's own arguments but the frame's numbers,
gathered by the subsystem (its ``_kernel_arrays``); the arithmetic is the kernels' own,
so a frame run here and one run subsystem by subsystem write the same bits. No
``fastmath``;
numba's ``error_model="numpy"``: a division by zero gives IEEE's inf or nan, as numpy
does, and no check for it is made at each division (every divisor here is guarded or
positive).
"""

from __future__ import annotations

import math

from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic, overload
from numba.experimental import structref

from ..sim.kernel_stamp import stamp_with_callees
from . import atm_kernel, comms_kernel, crew_kernel, gas, kernel_args, ls_kernel, power_kernel, unmanaged
from .atm_kernel import atmosphere_frame
from .comms_kernel import links_frame
from .crew_kernel import crew_frame
from .kernel_args import (AFTER, ATMOSPHERE, ATTITUDE, BEFORE, COMMS, CONTACT_AT, CREW, CREW_AT,  # noqa: F401
                          CREW_TOTALS, DAYS_AT, DONE, LIFESUPPORT, LS_AT, MS_PER_DAY, MS_PER_MINUTE, POWER,
                          POWER_ALWAYS, POWER_TOTALS, PROPULSION)
from .ls_kernel import machines_frame
from .power_kernel import power_frame
from .unmanaged import borrowed

@njit(cache=True, error_model="numpy")
def attitude_quiet(h_sec_arr, lost_arr, working_arr, hold_arr, saturated_arr, momentum, fraction, held,
                   min_cmgs, k, t_end, dt_s):
    """The frame of :meth:`issim.physics.attitude.Attitude.update` when nothing happens: enough
    CMGs, no thruster hold, neither saturated nor lost, and the momentum below the
    desaturation threshold after the frame. Writes that frame and returns True; returns
    False without writing anything otherwise (then ``update`` runs in Python)."""
    working = working_arr[0]
    if working < min_cmgs or hold_arr[0] or saturated_arr[0] or lost_arr[0]:
        return False
    h_cmg, amp, omega, torque, threshold = k[0], k[1], k[2], k[3], k[4]
    capacity = working * h_cmg
    cyclic = amp * math.sin(omega * t_end / 1000.0)
    h_sec = h_sec_arr[0] + torque * dt_s
    mag = abs(h_sec + cyclic)
    if mag >= threshold * capacity:
        return False
    h_sec_arr[0] = h_sec
    momentum[0] = mag
    fraction[0] = mag / capacity if capacity > 0 else 1.0
    held[0] = True
    return True


@njit(cache=True, error_model="numpy")
def crosses_edge(edge, t0, t1):
    """Whether anyone's sleep starts or ends in ``(t0, t1]`` (``Crew._crosses_edge``)."""
    first, last = t0 // MS_PER_MINUTE + 1, t1 // MS_PER_MINUTE
    if last - first >= 1440:
        return True
    for m in range(first, last + 1):
        if edge[m % 1440]:
            return True
    return False


@njit(cache=True, error_model="numpy")
def wounds_quiet(alive, conscious, bleeding, injury, deficit, health, k):
    """``Crew._wounds`` then ``Crew._update_consciousness`` when the crew kernel found someone
    hurt and nothing else (its answer 1), in the common case: no one living bleeds, no one
    has a deficit, and no one comes round or is incapacitated. Writes that and returns True;
    returns False without writing anything otherwise (then Python does it). ``k``: the
    injury's decay factor over the frame, the level healed to 0, the level that incapacitates."""
    decay, zero, incapacitates = k[0], k[1], k[2]
    n = alive.size
    for i in range(n):
        if alive[i] and bleeding[i]:
            return False
    for i in range(deficit.shape[0]):
        for c in range(deficit.shape[1]):
            if deficit[i, c] != 0.0:
                return False
    for i in range(n):
        healed = injury[i] * decay
        if healed < zero:
            healed = 0.0
        now = alive[i] and (healed if alive[i] else injury[i]) < incapacitates
        if now != conscious[i]:
            return False
    for i in range(n):
        if alive[i]:
            healed = injury[i] * decay
            injury[i] = 0.0 if healed < zero else healed
            health[i] = 1.0 - injury[i]
        else:
            health[i] = 0.0
    return True


@njit(cache=True, inline="always")
def _add(totals, slot, v, always):
    """``totals[slot] += v`` if ``always`` or ``v`` is not zero (as ``add_totals`` and
    ``add_nonzero_totals`` add); a total made so is counted in ``totals[4][0]``."""
    acc, present, count = totals[2], totals[3], totals[4]
    if always or v != 0.0:
        acc[slot] += v
        if not present[slot]:
            present[slot] = True
            count[0] += 1


FIELDS = ("pw", "att", "att_k", "crew", "crew_edge", "wounds", "wounds_k", "ls", "prop", "comms", "sessions", "atm",
          "leaked_out", "totals")


@structref.register
class FrameArgsType(types.StructRef):
    """numba's type of :class:`FrameArgs`: its fields' types are those of the tuples it holds."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class FrameArgs(structref.StructRefProxy):
    """:func:`physics_frame`'s arrays (:data:`FIELDS`, each a subsystem's kernel's arguments
    as a tuple), held in one compiled record made by :func:`frame_args`. Passing the record
    costs a pointer, where passing its hundred-odd arrays one by one costs numba's conversion
    of each, every call (about 5 µs a frame)."""


structref.define_boxing(FrameArgsType, FrameArgs)


def _new_frame_args(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm,
                    leaked_out, totals):
    raise NotImplementedError("compiled only (frame_args)")


@overload(_new_frame_args)
def _new_frame_args_compiled(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm,
                             leaked_out, totals):
    record = FrameArgsType(list(zip(FIELDS, (pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms,
                                             sessions, atm, leaked_out, totals))))

    def make(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm, leaked_out, totals):
        r = structref.new(record)
        r.pw, r.att, r.att_k, r.crew, r.crew_edge, r.wounds, r.wounds_k = pw, att, att_k, crew, crew_edge, wounds, wounds_k
        r.ls, r.prop, r.comms, r.sessions, r.atm, r.leaked_out, r.totals = ls, prop, comms, sessions, atm, leaked_out, totals
        return r

    return make


def _record_at(context, builder, record_type, address):
    """The record of type ``record_type`` whose memory record is at ``address`` (no reference taken)."""
    record = cgutils.create_struct_proxy(record_type)(context, builder)
    record.meminfo = builder.inttoptr(address, record.meminfo.type)
    return record._getvalue()


@intrinsic
def hold(typingctx, record):
    """``record``'s address, with a reference to it taken for the holder (a
    :class:`~issim.sim.kernels.FrameHandle`, which gives it back with :func:`release`)."""
    if not isinstance(record, FrameArgsType):
        return None

    def codegen(context, builder, signature, args):
        context.nrt.incref(builder, record, args[0])
        fields = cgutils.create_struct_proxy(record)(context, builder, value=args[0])
        return builder.ptrtoint(fields.meminfo, context.get_value_type(types.int64))

    return types.int64(record), codegen


@intrinsic
def held(typingctx, address, record_type):
    """The record of type ``record_type`` at ``address`` (from :func:`hold`), as a new
    reference (numba gives it back when it is done with it)."""
    if not isinstance(address, types.Integer) or not isinstance(record_type, types.TypeRef):
        return None
    typ = record_type.instance_type

    def codegen(context, builder, signature, args):
        value = _record_at(context, builder, typ, args[0])
        context.nrt.incref(builder, typ, value)
        return value

    return typ(address, record_type), codegen


@intrinsic
def release(typingctx, address, record_type):
    """Give back the reference :func:`hold` took (the record is freed with its last one)."""
    if not isinstance(address, types.Integer) or not isinstance(record_type, types.TypeRef):
        return None
    typ = record_type.instance_type

    def codegen(context, builder, signature, args):
        context.nrt.decref(builder, typ, _record_at(context, builder, typ, args[0]))
        return context.get_dummy_value()

    return types.void(address, record_type), codegen


@njit(cache=True, error_model="numpy")
def frame_args(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm, leaked_out, totals):
    """A :class:`FrameArgs` holding these (the arrays themselves, not copies)."""
    return _new_frame_args(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm,
                           leaked_out, totals)


@njit(cache=True, error_model="numpy")
def physics_frame(args, start, sunlit, beta_deg, t0, dt_ms, dt_s, follow_schedule, frame, has_elements, alt_km,
                  relay_clearance_km, site_elevation_deg, in_sessions, since_ms, period_ms, queue_waiting):
    """One frame of the seven physics subsystems while each is quiet, from stage ``start`` on
    (those before it have run); see the module. ``args`` (:class:`FrameArgs`): ``prop`` is
    ``(orbit.alt_km, [re-entry altitude])``: propulsion's frame needs Python at the first
    frame, the first of a day (its upkeep check) and on re-entry (``Propulsion.update``'s
    tests); ``sessions`` is ``(every relay, per orbit, minutes in ms, outside each plan,
    the relays allowed)``, the comms' session plans, checked when ``in_sessions`` at
    ``since_ms`` into an orbit of ``period_ms`` (``Comms._allowed``); ``queue_waiting``:
    messages wait in the comms queue (they are looked at in Python); ``leaked_out``: the
    moles leaked, for the atmosphere's Python part. ``totals``: ``(slots, ls_sources,
    values, present, count)``, the running totals the quiet subsystems add, each where its
    ``_settle`` adds it, in its order: power's 10 (its kernel's ``out``), the crew's 9, the
    comms' 2, then life support's (``out[ls_sources[j]]``); see
    :class:`issim.physics.frame.PhysicsFrame`."""
    pw, att, att_k, crew, crew_edge, wounds, wounds_k = borrowed((args.pw, args.att, args.att_k, args.crew,
                                                                  args.crew_edge, args.wounds, args.wounds_k))
    ls, prop, comms, sessions, atm, leaked_out, totals = borrowed((args.ls, args.prop, args.comms, args.sessions,
                                                                  args.atm, args.leaked_out, args.totals))
    return physics_frame_of(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm,
                            leaked_out, totals, start, sunlit, beta_deg, t0, dt_ms, dt_s, follow_schedule, frame,
                            has_elements, alt_km, relay_clearance_km, site_elevation_deg, in_sessions, since_ms,
                            period_ms, queue_waiting)


@njit(cache=True, inline="always")
def physics_frame_of(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, comms, sessions, atm, leaked_out,
                     totals, start, sunlit, beta_deg, t0, dt_ms, dt_s, follow_schedule, frame, has_elements, alt_km,
                     relay_clearance_km, site_elevation_deg, in_sessions, since_ms, period_ms, queue_waiting):
    """:func:`physics_frame` with the record's fields given one by one (a loop over frames
    reads them once: reading a field of arrays out of the record counts a reference to
    each of its arrays, and gives it back after)."""
    slots = totals[0]
    if start <= POWER:
        logged = power_frame(*(pw + (sunlit, beta_deg, dt_s)))
        if logged:
            return POWER * 256 + 1
        out = pw[26]
        for j in range(POWER_TOTALS):
            _add(totals, slots[j], out[j], j < POWER_ALWAYS)
    t1 = t0 + dt_ms
    if start <= ATTITUDE:
        if not attitude_quiet(*(att + (att_k[0], att_k[1], t0 + dt_s * 1000.0, dt_s))):
            return ATTITUDE * 256
    if start <= CREW:
        m0, m1 = (t0 // MS_PER_MINUTE) % 1440, (t1 // MS_PER_MINUTE) % 1440
        harmed = crew_frame(*(crew + (m0, m1, (t0 % MS_PER_MINUTE) / 60_000.0, (t1 % MS_PER_MINUTE) / 60_000.0,
                                      t1 // MS_PER_DAY - t0 // MS_PER_DAY, dt_s)))
        if harmed == 1 and wounds_quiet(*(wounds + (wounds_k,))):
            harmed = 0
        if harmed or (follow_schedule and m1 != m0 and crosses_edge(crew_edge, t0, t1)):
            return CREW * 256 + harmed
        amounts = crew[-1]
        for j in range(CREW_TOTALS):
            _add(totals, slots[CREW_AT + j], amounts[j], True)
        _add(totals, slots[DAYS_AT], amounts[CREW_TOTALS] * dt_s / 86_400.0, True)  # (the count of the living)
    if start <= LIFESUPPORT:
        code = machines_frame(*(ls + (dt_s,)))
        if code:
            return LIFESUPPORT * 256 + code
        out, sources = ls[-1], totals[1]
        for j in range(sources.size):
            _add(totals, slots[LS_AT + j], out[sources[j]], False)
    if start <= PROPULSION:
        alt_out, reentry_km = prop[0], prop[1][0]
        if has_elements and (not math.isfinite(alt_km) or alt_km < reentry_km or frame == 0
                             or t0 % MS_PER_DAY < dt_ms):
            return PROPULSION * 256
        alt_out[0] = alt_km
    if start <= COMMS:
        every, per_orbit, plan_ms, outside, allowed = sessions
        for r in range(every.size):
            allowed[r] = every[r]
        if in_sessions:
            for k in range(per_orbit.size):
                if not since_ms % (period_ms / per_orbit[k]) < plan_ms[k]:
                    for r in range(allowed.size):
                        allowed[r] = allowed[r] and outside[k, r]
        c = comms
        changed = links_frame(c[0], c[1], relay_clearance_km, c[2], allowed, site_elevation_deg, c[3], c[4],
                              c[5], c[6], c[7], c[8], c[9], c[10], c[11])
        if queue_waiting or c[12][0]:
            return COMMS * 256 + changed
        contact = c[4]
        _add(totals, slots[CONTACT_AT], dt_s if contact[0] else 0.0, False)
        _add(totals, slots[CONTACT_AT + 1], dt_s if contact[1] else 0.0, False)
    if start <= ATMOSPHERE:
        leaked = atmosphere_frame(*(atm + (dt_s,)))
        any_leak = False
        for i in range(leaked.size):
            leaked_out[i] = leaked[i]
            any_leak = any_leak or leaked[i] != 0.0
        if any_leak:
            return ATMOSPHERE * 256 + 1
    return DONE * 256


# the modules whose code physics_frame holds (it calls their kernels, expands their intrinsics or
# reads their constants)
CALLEES = (power_kernel, crew_kernel, ls_kernel, comms_kernel, atm_kernel, gas, kernel_args, unmanaged)


STAMPED = stamp_with_callees(physics_frame, CALLEES)
