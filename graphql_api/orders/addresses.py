"""Shipping address validation: the fields a carrier needs, and a real ISO 3166 country."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import pycountry

from graphql_api.core.errors import ErrorCode, UserError, UserInputError

_LIMITS = {"name": 200, "line1": 200, "line2": 200, "city": 100, "postal_code": 20}
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
_CAMEL = {"postal_code": "postalCode"}


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Address:
        return cls(**data)


def validated(name: str, line1: str, line2: str | None, city: str, postal_code: str,
              country: str) -> Address:
    """The address trimmed and checked; every fault is reported at once."""
    values = {"name": name, "line1": line1, "line2": line2 or None, "city": city,
              "postal_code": postal_code, "country": country}
    values = {k: (" ".join(v.split()) if isinstance(v, str) else v) for k, v in values.items()}
    errors: list[UserError] = []

    def fault(key: str, code: ErrorCode, message: str) -> None:
        errors.append(UserError(field=["shippingAddress", _CAMEL.get(key, key)], code=code,
                                message=message))

    for key, limit in _LIMITS.items():
        value = values[key]
        if not value:
            if key != "line2":
                fault(key, ErrorCode.REQUIRED, "This field is required.")
        elif len(value) > limit:
            fault(key, ErrorCode.TOO_LONG, f"At most {limit} characters.")
    if values["postal_code"] and not _POSTAL_CODE.match(values["postal_code"]):
        fault("postal_code", ErrorCode.INVALID, "Letters, digits, spaces and hyphens only.")
    code = (values["country"] or "").upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        fault("country", ErrorCode.INVALID, "An ISO 3166-1 alpha-2 country code, such as DE.")
    if errors:
        raise UserInputError(errors)
    values["country"] = code
    return Address(**values)  # type: ignore[arg-type]
