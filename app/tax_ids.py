"""The tax ID types customers may give, with the pattern each must match and an example to show."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaxIdType:
    label: str  # an English msgid, translated where shown
    pattern: str
    example: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None

    @property
    def invalid_message(self) -> str:
        return f"Enter a valid {self.label}, like {self.example}."


TAX_ID_TYPES: dict[str, TaxIdType] = {
    "eu_vat": TaxIdType("EU VAT number", r"[A-Z]{2}[0-9A-Z+*.]{2,13}", "DE123456789"),
    "gb_vat": TaxIdType("UK VAT number", r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})", "GB123456789"),
    "ch_vat": TaxIdType("Swiss VAT number", r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)", "CHE-123.456.789 MWST"),
    "us_ein": TaxIdType("US EIN", r"\d{2}-?\d{7}", "12-3456789"),
    "ca_bn": TaxIdType("Canadian BN", r"\d{9}", "123456789"),
    "au_abn": TaxIdType("Australian ABN", r"\d{11}", "12345678912"),
    "cn_tin": TaxIdType("Chinese tax ID", r"[0-9A-Z]{18}", "123456789012345678"),
    "jp_cn": TaxIdType("Japanese corporate number", r"\d{13}", "1234567891234"),
}
