"""Per-country distributions of the four indices the dashboard charts.

Means are approximations of PISA 2018 country means (technical report, Annex A1), kept far
enough inside the ranges DESIGN section 1 gives that a sample's means land inside them too
(DURECEC is clamped to [0, 8], which pulls the lowest means up). They make the simulated charts
look like the real ones; they are simulation inputs, not published figures.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountryProfile:
    """Means of ESCS, TMINS (minutes per week), BELONG and DURECEC (years) for one country."""

    escs: float
    tmins: float
    belong: float
    durecec: float


PROFILES = {
    "ALB": CountryProfile(-0.92, 1570, 0.14, 2.4),
    "ARG": CountryProfile(-0.61, 1480, 0.05, 2.9),
    "AUS": CountryProfile(0.25, 1610, -0.18, 2.2),
    "AUT": CountryProfile(0.11, 1520, 0.38, 2.9),
    "BEL": CountryProfile(0.16, 1680, -0.09, 3.3),
    "BGR": CountryProfile(-0.09, 1450, -0.22, 3.1),
    "BIH": CountryProfile(-0.28, 1440, 0.21, 1.8),
    "BLR": CountryProfile(-0.06, 1500, 0.03, 3.2),
    "BRA": CountryProfile(-1.03, 1540, -0.33, 2.5),
    "BRN": CountryProfile(0.10, 1860, -0.32, 2.1),
    "CAN": CountryProfile(0.42, 1640, -0.21, 2.0),
    "CHE": CountryProfile(0.04, 1590, 0.47, 2.6),
    "CHL": CountryProfile(-0.50, 1850, -0.12, 2.7),
    "COL": CountryProfile(-1.09, 1830, 0.02, 2.8),
    "CRI": CountryProfile(-0.88, 1720, 0.10, 1.9),
    "CZE": CountryProfile(-0.02, 1490, -0.05, 3.4),
    "DEU": CountryProfile(0.14, 1530, 0.44, 3.5),
    "DNK": CountryProfile(0.57, 1620, 0.11, 3.45),
    "DOM": CountryProfile(-0.96, 1460, -0.31, 1.6),
    "ESP": CountryProfile(-0.11, 1690, 0.45, 3.0),
}

DEFAULT_PROFILE = CountryProfile(0.0, 1600, 0.0, 2.5)

# Spreads inside one country (student to student), and the clamps of the observed ranges.
ESCS_SD, ESCS_MIN, ESCS_MAX = 0.95, -7.0, 4.0
TMINS_SD, TMINS_MAX = 380.0, 3600.0
BELONG_SD = 0.95
DURECEC_SD, DURECEC_MAX = 1.6, 8


def profile_for(source: str) -> CountryProfile:
    """The profile of a country code; unknown codes get a neutral one."""
    return PROFILES.get(source.upper(), DEFAULT_PROFILE)
