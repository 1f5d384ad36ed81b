"""Gas constants and the species issim tracks in cabin air (SI units)."""

from __future__ import annotations

import numpy as np

R_J_PER_MOL_K = 8.314462618  # CODATA 2018, exact
SPECIES = ("o2", "n2", "co2", "h2o")
O2, N2, CO2, H2O = range(4)
MOLAR_MASS_KG_PER_MOL = np.array([0.031998, 0.0280134, 0.04401, 0.018015])
PA_PER_MMHG = 133.322387415
GAMMA_AIR = 1.4


def saturation_pressure_pa(temperature_k):
    """Saturation vapour pressure of water over liquid (Magnus-Tetens, 0-50 °C, ±0.1 %)."""
    t_c = np.asarray(temperature_k) - 273.15
    return 610.94 * np.exp(17.625 * t_c / (t_c + 243.04))


def gas_totals_key(direction: str, species: str, process: str) -> str:
    """The running-total key for gas a process adds to (``in``) or takes from (``out``)
    the cabin air, in moles: ``gas.in_mol.o2.elektron``, ``gas.out_mol.co2.cdra``.

    Every process that changes ``atm.moles`` other than by moving air between volumes
    must add to these totals; the station's gas balance is checked against them.
    """
    if direction not in ("in", "out") or species not in SPECIES:
        raise ValueError(f"bad gas total: {direction} {species}")
    return f"gas.{direction}_mol.{species}.{process}"
