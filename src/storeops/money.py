"""Money as integer minor units plus an ISO 4217 currency code; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from storeops.bounds import MAX_MINOR

# Currencies whose minor unit is not 1/100 (ISO 4217). Everything else uses two decimals.
_EXPONENTS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 unless ISO says otherwise)."""
    return _EXPONENTS.get(currency.upper(), 2)


def validate_currency(code: str) -> str:
    """Return the upper-cased code, or raise ValueError for anything not shaped like ISO 4217."""
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha()):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code such as EUR, got {code!r}")
    return code.upper()


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units (cents for EUR) of one currency."""

    minor: int
    currency: str

    @classmethod
    def parse(cls, text: str | int | Decimal, currency: str) -> Money:
        """Parse a decimal string such as ``"500.00"`` in ``currency``; refuses floats, excess
        precision and amounts beyond ``bounds.MAX_MINOR`` minor units either way."""
        currency = validate_currency(currency)
        if isinstance(text, float):
            raise ValueError('money must be written as a decimal string such as "500.00", not a float')
        try:
            value = Decimal(str(text).strip())
        except InvalidOperation:
            raise ValueError(f'{str(text)[:40]!r} is not a decimal amount such as "500.00"') from None
        if not value.is_finite():
            raise ValueError(f"{str(text)[:40]!r} is not a finite amount")
        exponent = currency_exponent(currency)
        # Worked out from the digits, never by scaling: "1e999999999" must not become a
        # billion-digit int, and a decimal context would round "1.000…001" or flush "1e-999999999".
        sign, digits, power = value.as_tuple()
        assert isinstance(power, int)  # finite
        if not any(digits):
            return cls(0, currency)
        largest = cls(MAX_MINOR, currency).decimal_text()
        if value.adjusted() > 30:
            raise ValueError(f"{str(text)[:40]!r} is more than the largest amount storeops accepts ({largest})")
        kept = "".join(map(str, digits)).rstrip("0")
        power += len(digits) - len(kept)
        if power + exponent < 0:
            raise ValueError(f"{str(text)[:40]!r} has more than {exponent} decimals for {currency}")
        minor = int(kept) * 10 ** (power + exponent)
        if minor > MAX_MINOR:
            raise ValueError(f"{str(text)[:40]!r} is more than the largest amount storeops accepts ({largest})")
        return cls(-minor if sign else minor, currency)

    def decimal_text(self) -> str:
        """The amount as a decimal string without the currency, e.g. ``"500.00"``."""
        exponent = currency_exponent(self.currency)
        value = Decimal(self.minor).scaleb(-exponent)
        return f"{value:.{exponent}f}"

    def format(self) -> str:
        """The amount as a decimal string with the currency, e.g. ``"500.00 EUR"``."""
        return f"{self.decimal_text()} {self.currency}"

    def __str__(self) -> str:
        return self.format()
