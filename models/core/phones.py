"""Phone numbers: validation to a canonical form, and masking for staff and logs (pure)."""

from __future__ import annotations

import re
import unicodedata


def normalize_phone(raw: str) -> str | None:
    """Mainland mobile → "13800138000", landline → "0558-2703802"; None when invalid.

    Tolerates +86/86 before a mobile, spaces, dashes, parentheses and full-width characters.
    The area code length follows China's plan: 010 and 02X are three digits, others four.
    """
    s = unicodedata.normalize("NFKC", raw).strip().strip("。.，,！!；;")
    if not s or len(s) > 30 or not re.fullmatch(r"\+?[0-9\s\-‐‑–—―()]+", s.replace("(+", "+")):
        return None
    digits = re.sub(r"[^0-9]", "", s)
    international = "+" in s
    if international or (digits.startswith("86") and len(digits) == 13):
        digits = digits[2:] if digits.startswith("86") else ""
    if re.fullmatch(r"1[3-9][0-9]{9}", digits):
        return digits
    if international or not re.fullmatch(r"0[1-9][0-9]{8,10}", digits):
        return None
    area_len = 3 if digits[1] in "12" else 4
    area, local = digits[:area_len], digits[area_len:]
    if not re.fullmatch(r"[1-9][0-9]{6,7}", local):
        return None
    return f"{area}-{local}"


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles; landlines keep the area code and last four digits."""
    digits = phone.replace("-", "")
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?!\d)")
LANDLINE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])0\d{2,3}-\d{7,8}(?!\d)")


def scrub_phones(text: str) -> str:
    """Mask every mobile or landline number in a text (138****5678): staff replies, logs."""
    text = MOBILE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)
    return LANDLINE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)


PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(1[3-9][0-9](?:[\s-]?[0-9]){8}|0[1-9][0-9]{1,2}[\s-]?[0-9]{7,8})(?![0-9])"
)


def mask_phones_in(text: str) -> str:
    """Every mainland mobile or landline number inside `text` masked (138****5678): for logs
    and stored errors, which must never hold a customer's full number."""
    return PHONE_IN_TEXT.sub(lambda match: mask_phone(re.sub(r"[\s-]", "", match.group(1))), text)
