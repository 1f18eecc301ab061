"""Order validation: what automation fixes itself, and what it must hand to a person."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

# ISO 3166-1 alpha-2 codes.
ISO_COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
    BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR
    CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
    SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR
    TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)
COUNTRY_NAMES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.a.": "US",
    "america": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "france": "FR",
    "germany": "DE",
    "deutschland": "DE",
    "netherlands": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "holland": "NL",
    "belgium": "BE",
    "belgique": "BE",
    "belgië": "BE",
    "spain": "ES",
    "españa": "ES",
    "italy": "IT",
    "italia": "IT",
    "austria": "AT",
    "österreich": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "sweden": "SE",
    "sverige": "SE",
    "denmark": "DK",
    "danmark": "DK",
    "norway": "NO",
    "norge": "NO",
    "finland": "FI",
    "suomi": "FI",
    "poland": "PL",
    "polska": "PL",
    "portugal": "PT",
    "ireland": "IE",
    "canada": "CA",
    "australia": "AU",
    "japan": "JP",
    "brazil": "BR",
    "brasil": "BR",
    "mexico": "MX",
    "méxico": "MX",
    "czech republic": "CZ",
    "czechia": "CZ",
    "greece": "GR",
    "luxembourg": "LU",
    "new zealand": "NZ",
    "india": "IN",
    "china": "CN",
}
POSTAL_PATTERNS = {
    "US": r"\d{5}(-\d{4})?",
    "FR": r"\d{5}",
    "DE": r"\d{5}",
    "IT": r"\d{5}",
    "ES": r"\d{5}",
    "FI": r"\d{5}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "BE": r"\d{4}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "DK": r"\d{4}",
    "NO": r"\d{4}",
    "LU": r"\d{4}",
    "AU": r"\d{4}",
    "NZ": r"\d{4}",
    "SE": r"\d{3} ?\d{2}",
    "PL": r"\d{2}-\d{3}",
    "PT": r"\d{4}-\d{3}",
    "CZ": r"\d{3} ?\d{2}",
    "GR": r"\d{3} ?\d{2}",
    "JP": r"\d{3}-?\d{4}",
    "BR": r"\d{5}-?\d{3}",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[\d\s().-]{6,20}$")


@dataclass
class AddressCheck:
    """An address after normalisation, with what was fixed and what is wrong."""

    address: dict[str, Any]
    fixes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def normalise_country(value: str | None) -> str | None:
    """An ISO alpha-2 code for a code or a common name; None when unknown."""
    if not value:
        return None
    text = value.strip()
    if text.upper() in ISO_COUNTRIES:
        return text.upper()
    return COUNTRY_NAMES.get(text.lower())


def check_address(raw: dict[str, Any] | None, role: str) -> AddressCheck:
    """Normalise an address (country code, postal code shape, white space) and list its problems."""
    if not raw:
        return AddressCheck(address={}, problems=[f"{role}_address_missing"])
    address = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    check = AddressCheck(address=address)
    country = normalise_country(address.get("country"))
    if country is None:
        check.problems.append(f"{role}_country_unknown")
    elif country != address.get("country"):
        check.fixes.append(f"{role} country {address.get('country')!r} → {country}")
        address["country"] = country
    if not address.get("line1"):
        check.problems.append(f"{role}_street_missing")
    if not address.get("city"):
        check.problems.append(f"{role}_city_missing")
    postal = address.get("postal_code")
    if isinstance(postal, str) and postal:
        upper = re.sub(r"\s+", " ", postal.upper())
        if upper != postal:
            check.fixes.append(f"{role} postal code {postal!r} → {upper!r}")
            address["postal_code"] = upper
        pattern = POSTAL_PATTERNS.get(country or "")
        if pattern and not re.fullmatch(pattern, upper):
            check.problems.append(f"{role}_postal_code_invalid")
    elif country in POSTAL_PATTERNS:
        check.problems.append(f"{role}_postal_code_missing")
    return check


def address_key(address: dict[str, Any]) -> str | None:
    """A stable digest of where a parcel goes (for addresses shared across customers)."""
    if not address.get("line1"):
        return None
    parts = [str(address.get(k) or "").lower().replace(" ", "") for k in ("line1", "postal_code", "country")]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()


def same_destination(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two normalised addresses are the same place (names and case aside)."""
    return address_key(a) == address_key(b)


def contact_warnings(email: str | None, phone: str | None) -> list[str]:
    """Syntax problems in contact details: recorded, but no reason to stop an order."""
    warnings = []
    if email and not EMAIL.match(email):
        warnings.append("email_invalid")
    if phone and not PHONE.match(phone):
        warnings.append("phone_invalid")
    return warnings


TOTAL_TOLERANCE_PER_LINE = 2
"""Minor units an order's total may differ from its parts per line (and once more for shipping):
storefronts round tax and spread discounts line by line."""


@dataclass(frozen=True)
class TotalsCheck:
    """Whether an order's lines and charges add up to its total, with the figures behind it."""

    problems: list[str]
    evidence: dict[str, int]


def check_totals(
    lines: list[dict[str, Any]],
    total_minor: int,
    *,
    shipping_minor: int | None = None,
    shipping_discount_minor: int | None = None,
    tax_minor: int | None = None,
    discount_minor: int | None = None,
    fees_minor: int | None = None,
) -> TotalsCheck | None:
    """Do the lines add up to the order's total? total = lines + shipping + tax + fees − discounts.

    A line counts its exact total when the storefront gave one, else quantity × unit price. The
    total may differ by TOTAL_TOLERANCE_PER_LINE minor units per line (rounding). Storefronts
    differ on whether the order's discount total already holds a shipping discount, so the total
    is accepted with the shipping discount counted once or not at all. None when the order
    carries none of the charges (a native event without them is not checked); otherwise the
    problem ``total_mismatch`` when the difference is beyond rounding."""
    charges = (shipping_minor, shipping_discount_minor, tax_minor, discount_minor, fees_minor)
    if all(charge is None for charge in charges):
        return None
    line_sum = sum(
        int(line["total_minor"])
        if line.get("total_minor") is not None
        else int(line["quantity"]) * int(line["unit_price_minor"])
        for line in lines
    )
    expected = line_sum + (shipping_minor or 0) + (tax_minor or 0) + (fees_minor or 0) - (discount_minor or 0)
    tolerance = TOTAL_TOLERANCE_PER_LINE * (len(lines) + 1)
    difference = total_minor - expected
    shipping_discount = shipping_discount_minor or 0
    fits = abs(difference) <= tolerance or abs(difference + shipping_discount) <= tolerance
    evidence = {
        "lines_minor": line_sum,
        "shipping_minor": shipping_minor or 0,
        "shipping_discount_minor": shipping_discount,
        "tax_minor": tax_minor or 0,
        "fees_minor": fees_minor or 0,
        "discount_minor": discount_minor or 0,
        "expected_minor": expected,
        "total_minor": total_minor,
        "difference_minor": difference,
        "tolerance_minor": tolerance,
    }
    return TotalsCheck(problems=[] if fits else ["total_mismatch"], evidence=evidence)
