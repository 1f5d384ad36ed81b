"""The compiled links kernel against the numpy frame it replaces (``Comms.update_reference``):
the same frame from the same state and environment, over more than an orbit (contacts made
and lost, the Luch sessions opening and closing), with a link cut, a bus off, TDRS-Z
scheduled, and messages waiting (delivered in the frame compared: the log must agree).
Tolerance: 1e-12 relative."""

from __future__ import annotations

import numpy as np
import pytest

from issim.scenario import build_simulation
from issim.sim import Event

from kernel_check import same_frame

KEYS = ("comms.link_up", "comms.contact", "comms.power_w", "comms.segment_power_w", "comms.messages",
        "comms.recheck", "comms.crew_seen")
FRAMES = 700  # more than an orbit of 10 s frames


def _message(t_ms: int, to: str) -> Event:
    return Event(t_ms, "send_message", "", (("from", "houston" if to == "USOS" else "moscow"), ("to", to),
                                             ("text", "hello")))


@pytest.mark.parametrize("case", ["nominal", "cut-and-off", "tdrs-z-and-messages"])
def test_kernel_frame_equals_the_reference_frame(case):
    sim = build_simulation("nominal")
    comms = next(s for s in sim.subsystems if s.name == "comms")
    t = sim.t_ms
    if case == "cut-and-off":
        sim.schedule(Event(t + 300_000, "cut_link", "usos-ku-band"))
        sim.schedule(Event(t + 600_000, "cut_link", "usos-s-band"))
        sim.schedule(Event(t + 1_200_000, "restore_link", "usos-s-band"))
        sim.schedule(Event(t + 2_400_000, "power_off", "ROS"))
        sim.schedule(Event(t + 3_600_000, "power_on", "ROS"))
    if case == "tdrs-z-and-messages":
        sim.schedule(Event(t, "schedule_relay", "tdrs-z"))
        for k in range(0, FRAMES * 10_000, 900_000):
            sim.schedule(_message(t + k, "ROS"))
            sim.schedule(_message(t + k + 10_000, "USOS"))
    contact = set()
    delivered = 0
    links_cut = ros_off = False
    for _ in range(FRAMES):
        env = sim.environment.at(sim.state)
        kernel_state, _ = same_frame(comms, sim, KEYS, env=env)
        contact.add(tuple(np.asarray(kernel_state["comms.contact"]).tolist()))
        delivered += sum(1 for entry in kernel_state.log if entry[1] == "comms")
        links_cut |= not sim.state["comms.link_ok"][:2].any()
        ros_off |= not sim.state["power.bus"][1]
        sim.step()
    assert len({c[1] for c in contact}) == 2  # the ROS's contact came and went in the frames compared
    if case == "cut-and-off":
        assert links_cut and ros_off
    if case == "tdrs-z-and-messages":
        assert delivered > 0
