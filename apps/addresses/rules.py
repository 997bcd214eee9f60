"""Per-country address rules: the postal code each country uses and, where a country's
addresses need one, the list its region (state) must come from.

A rule is data: a pattern the normalised postal code must match, whether the country
requires one, and an example shown in the error message. Countries without a rule of
their own take :data:`DEFAULT_POSTAL`: optional, short free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


def _compact(value: str) -> str:
    """Upper case without spaces or hyphens: the form every pattern below starts from."""
    return re.sub(r"[\s-]+", "", value.upper())


def _split(at: int, sep: str = " ") -> Callable[[str], str]:
    """``_split(3)("12345")`` → ``"123 45"``: a separator after ``at`` characters."""

    def normalise(value: str) -> str:
        compact = _compact(value)
        return f"{compact[:at]}{sep}{compact[at:]}"

    return normalise


def _split_from_end(tail: int) -> Callable[[str], str]:
    """A space before the last ``tail`` characters (UK postcodes, Eircodes)."""

    def normalise(value: str) -> str:
        compact = _compact(value)
        return f"{compact[:-tail]} {compact[-tail:]}"

    return normalise


def _prefixed(prefix: str) -> Callable[[str], str]:
    """``LV1050``, ``lv-1050`` or ``1050`` → ``LV-1050``."""

    def normalise(value: str) -> str:
        compact = _compact(value).removeprefix(prefix)
        return f"{prefix}-{compact}"

    return normalise


def _ghana_post_gps(value: str) -> str:
    """``ga1838164``, ``GA 183 8164`` → ``GA-183-8164`` (the last four digits are the
    unique part; the district code before them has three or four digits)."""
    compact = _compact(value)
    return f"{compact[:2]}-{compact[2:-4]}-{compact[-4:]}"


def _us_zip(value: str) -> str:
    compact = _compact(value)
    return compact if len(compact) <= 5 else f"{compact[:5]}-{compact[5:]}"


def _plain(value: str) -> str:
    return _compact(value)


def _free_text(value: str) -> str:
    return re.sub(r"\s+", " ", value.upper()).strip()


@dataclass(frozen=True)
class PostalRule:
    required: bool
    pattern: re.Pattern[str]
    normalise: Callable[[str], str]
    example: str


def _rule(
    pattern: str, example: str, *, required: bool = True, normalise: Callable[[str], str] = _plain
) -> PostalRule:
    return PostalRule(required, re.compile(pattern), normalise, example)


_FOUR_DIGITS = _rule(r"\d{4}", "1010")
_FIVE_DIGITS = _rule(r"\d{5}", "10115")
_THREE_TWO = _rule(r"\d{3} \d{2}", "114 55", normalise=_split(3))

# The standard UK postcode pattern (BS 7666, as published for government data): the
# outward code (area and district), a space, the inward code (sector and unit); GIR 0AA.
_UK_POSTCODE = (
    r"GIR 0AA|(?:[A-Z]\d{1,2}|[A-Z][A-HJ-Y]\d{1,2}|[A-Z]\d[A-Z]|[A-Z][A-HJ-Y]\d[A-Z]?)"
    r" \d[A-Z]{2}"
)

POSTAL_RULES: dict[str, PostalRule] = {
    # Africa: postal codes exist but are rarely used, so they are optional.
    "NG": _rule(r"\d{6}", "100001", required=False),
    "GH": _rule(
        r"[A-Z]{2}-\d{3,4}-\d{4}", "GA-183-8164", required=False, normalise=_ghana_post_gps
    ),
    "KE": _rule(r"\d{5}", "00100", required=False),
    "GB": _rule(_UK_POSTCODE, "SW1A 1AA", normalise=_split_from_end(3)),
    "US": _rule(r"\d{5}(?:-\d{4})?", "94105 or 94105-1234", normalise=_us_zip),
    # The 27 member states of the European Union.
    "AT": _FOUR_DIGITS,
    "BE": _FOUR_DIGITS,
    "BG": _FOUR_DIGITS,
    "CY": _FOUR_DIGITS,
    "DK": _FOUR_DIGITS,
    "HU": _FOUR_DIGITS,
    "LU": _FOUR_DIGITS,
    "SI": _FOUR_DIGITS,
    "DE": _FIVE_DIGITS,
    "FR": _FIVE_DIGITS,
    "IT": _FIVE_DIGITS,
    "ES": _FIVE_DIGITS,
    "FI": _FIVE_DIGITS,
    "EE": _FIVE_DIGITS,
    "HR": _FIVE_DIGITS,
    "LT": _rule(r"LT-\d{5}", "LT-01100", normalise=_prefixed("LT")),
    "NL": _rule(r"[1-9]\d{3} [A-Z]{2}", "1012 AB", normalise=_split(4)),
    "IE": _rule(
        r"(?:[AC-FHKNPRTV-Y]\d{2}|D6W) [\dAC-FHKNPRTV-Y]{4}",
        "D02 X285",
        required=False,
        normalise=_split_from_end(4),
    ),
    "PT": _rule(r"\d{4}-\d{3}", "1000-001", normalise=_split(4, "-")),
    "PL": _rule(r"\d{2}-\d{3}", "00-950", normalise=_split(2, "-")),
    "SE": _THREE_TWO,
    "CZ": _THREE_TWO,
    "SK": _THREE_TWO,
    "GR": _THREE_TWO,
    "LV": _rule(r"LV-\d{4}", "LV-1050", normalise=_prefixed("LV")),
    "RO": _rule(r"\d{6}", "010011"),
    "MT": _rule(r"[A-Z]{3} \d{4}", "VLT 1117", normalise=_split(3)),
}

#: Any other country: optional, letters, digits, spaces and hyphens, at most 16.
DEFAULT_POSTAL = _rule(r"[A-Z\d][A-Z\d -]{0,15}", "", required=False, normalise=_free_text)


# --- regions ----------------------------------------------------------------------------------

#: Nigeria's 36 states and the Federal Capital Territory, as written on an address.
NIGERIAN_STATES: tuple[str, ...] = (
    "Abia",
    "Adamawa",
    "Akwa Ibom",
    "Anambra",
    "Bauchi",
    "Bayelsa",
    "Benue",
    "Borno",
    "Cross River",
    "Delta",
    "Ebonyi",
    "Edo",
    "Ekiti",
    "Enugu",
    "Gombe",
    "Imo",
    "Jigawa",
    "Kaduna",
    "Kano",
    "Katsina",
    "Kebbi",
    "Kogi",
    "Kwara",
    "Lagos",
    "Nasarawa",
    "Niger",
    "Ogun",
    "Ondo",
    "Osun",
    "Oyo",
    "Plateau",
    "Rivers",
    "Sokoto",
    "Taraba",
    "Yobe",
    "Zamfara",
    "Federal Capital Territory",
)


def _region_key(value: str) -> str:
    """``Akwa-Ibom State`` → ``akwaibom``: letters only, without a trailing "state"."""
    key = re.sub(r"[^a-z]", "", value.lower())
    return key.removesuffix("state") or key


_NIGERIAN_STATE_KEYS: dict[str, str] = (
    {_region_key(name): name for name in NIGERIAN_STATES}
    | {
        _region_key(alias): "Federal Capital Territory"
        for alias in ("FCT", "Abuja", "FCT Abuja", "Abuja FCT", "Federal Capital Territory Abuja")
    }
    | {"nassarawa": "Nasarawa"}
)


def nigerian_state(value: str) -> str | None:
    """The state as written on an address (``lagos state`` → ``Lagos``), or None."""
    return _NIGERIAN_STATE_KEYS.get(_region_key(value))


#: The United States' states, the District of Columbia and the inhabited territories.
US_STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}
_US_STATE_NAMES = {_region_key(name): code for code, name in US_STATES.items()}


def us_state(value: str) -> str | None:
    """The two-letter code of a US state or territory, given its code or its name."""
    code = value.strip().upper()
    if code in US_STATES:
        return code
    return _US_STATE_NAMES.get(_region_key(value))
