"""Country names and codes → ISO-3166 alpha-2, and the EU member states (for the consent policy).

`iso3166` supplies every country's alpha-2, alpha-3 and numeric code and its ISO English name;
`_ALIASES` adds the everyday English names ISO spells differently ("United States", "UK",
"Czech Republic", "Russia", …) so a common non-EU name is recognised rather than "unknown".
Matching ignores case, surrounding blanks, repeated spaces and a leading "the ".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from iso3166 import countries

EU_MEMBER_STATES: Final = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
"""The 27 member states (since 1 February 2020)."""

EU_TERRITORIES: Final = frozenset({"AX", "GF", "GP", "MQ", "RE", "YT", "MF"})
"""Parts of member states with their own ISO code that are inside the EU (Åland, the outermost
regions of France); GDPR applies there as in the rest of the member state."""

EU: Final = EU_MEMBER_STATES | EU_TERRITORIES

_ALIASES: Final = {
    # EU: the EU's own code for Greece, and names people write
    "el": "GR",
    "czech republic": "CZ",
    "holland": "NL",
    "republic of ireland": "IE",
    "eire": "IE",
    "slovak republic": "SK",
    "deutschland": "DE",
    "espana": "ES",
    "españa": "ES",
    "italia": "IT",
    "österreich": "AT",
    "polska": "PL",
    "sverige": "SE",
    "danmark": "DK",
    "suomi": "FI",
    "nederland": "NL",
    "belgique": "BE",
    "belgië": "BE",
    "hellas": "GR",
    # non-EU names that ISO spells differently
    "united states": "US",
    "us": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "taiwan": "TW",
    "moldova": "MD",
    "turkey": "TR",
    "brunei": "BN",
    "macedonia": "MK",
    "ivory coast": "CI",
    "cape verde": "CV",
    "swaziland": "SZ",
    "micronesia": "FM",
    "palestine": "PS",
    "vatican": "VA",
    "vatican city": "VA",
    "congo-kinshasa": "CD",
    "democratic republic of the congo": "CD",
    "congo-brazzaville": "CG",
    "hong kong": "HK",
    "macau": "MO",
    "uae": "AE",
}


def _normalise(text: str) -> str:
    flat = " ".join(text.split()).casefold()
    return flat[4:] if flat.startswith("the ") else flat


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in countries:
        for name in (country.alpha2, country.alpha3, country.numeric, country.name, country.apolitical_name):
            index[_normalise(name)] = country.alpha2
    for alias, code in _ALIASES.items():
        index[_normalise(alias)] = code
    return index


_INDEX: Final = _build_index()


def country_code(value: object) -> str | None:
    """The alpha-2 code `value` names (code, alpha-3, numeric or English name), else None."""
    if not isinstance(value, str):
        return None
    return _INDEX.get(_normalise(value))


def eu_codes(extra: Iterable[str] = ()) -> frozenset[str]:
    """The EU set plus `extra` countries (names or codes; an unknown entry is taken as a code)."""
    added = {country_code(item) or item.strip().upper() for item in extra}
    return EU | frozenset(added)
