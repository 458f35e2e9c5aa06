"""Loads and validates clinic.yml: the single source of the clinic's contact details.

A broken or incomplete file must stop start-up with a message naming the field, because
a wrong phone number in an emergency reply is worse than no server at all.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Dict, Optional, Tuple

import yaml

from bot.paths import DEFAULT_CLINIC_FILE

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REQUIRED_TEXT = ("name", "address", "phone", "email", "emergency_number", "crisis_line")
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ClinicConfigError(ValueError):
    """clinic.yml is missing, unreadable or has an invalid field."""


@dataclass(frozen=True)
class Clinic:
    name: str
    address: str
    phone: str
    email: str
    emergency_number: str
    crisis_line: str
    timezone: str = "America/New_York"
    website: str = ""
    hours: Dict[str, Optional[Tuple[time, time]]] = field(default_factory=dict)

    @property
    def phone_e164(self) -> str:
        digits = re.sub(r"\D", "", self.phone)
        return "+" + (digits if len(digits) > 10 else "1" + digits)

    def hours_text(self) -> str:
        """Office hours in plain words, grouping days with the same times."""
        groups: list = []
        for day in DAYS:
            span = self.hours.get(day)
            if groups and groups[-1][1] == span:
                groups[-1][0].append(day)
            else:
                groups.append(([day], span))
        parts = []
        for days, span in groups:
            if span is None:
                continue
            label = days[0].title() if len(days) == 1 else f"{days[0].title()} to {days[-1].title()}"
            parts.append(f"{label}, {_clock(span[0])} to {_clock(span[1])}")
        return "; ".join(parts) if parts else "by appointment"

    def next_opening(self, now: datetime) -> datetime:
        """When the clinic is next open (now, if it is open), in the clinic's local time."""
        local = now.astimezone(self._tz()) if now.tzinfo else now.replace(tzinfo=self._tz())
        for offset in range(8):
            day = local + timedelta(days=offset)
            span = self.hours.get(DAYS[day.weekday()])
            if span is None:
                continue
            start = day.replace(hour=span[0].hour, minute=span[0].minute, second=0, microsecond=0)
            end = day.replace(hour=span[1].hour, minute=span[1].minute, second=0, microsecond=0)
            if offset == 0 and start <= local < end:
                return local
            if local < start:
                return start
        return local

    def _tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def template_values(self) -> Dict[str, str]:
        """Values that responses may use as {placeholders}."""
        return {
            "clinic_name": self.name,
            "clinic_address": self.address,
            "clinic_phone": self.phone,
            "clinic_phone_e164": self.phone_e164,
            "clinic_email": self.email,
            "clinic_website": self.website,
            "clinic_hours": self.hours_text(),
            "emergency_number": self.emergency_number,
            "crisis_line": self.crisis_line,
        }


def _clock(t: time) -> str:
    suffix = "am" if t.hour < 12 else "pm"
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {suffix}" if t.minute else f"{hour} {suffix}"


def _parse_hours(raw) -> Dict[str, Optional[Tuple[time, time]]]:
    if not isinstance(raw, dict):
        raise ClinicConfigError("clinic.yml field 'hours' must map each weekday to 'HH:MM-HH:MM' or 'closed'")
    hours: Dict[str, Optional[Tuple[time, time]]] = {}
    for key in raw:
        if str(key).lower() not in DAYS:
            raise ClinicConfigError(f"clinic.yml field 'hours.{key}' is not a weekday")
    for day in DAYS:
        value = raw.get(day, "closed")
        if value in (None, False) or str(value).strip().lower() == "closed":
            hours[day] = None
            continue
        match = _HOURS_RE.match(str(value))
        if not match:
            raise ClinicConfigError(f"clinic.yml field 'hours.{day}' must look like '08:00-16:30' or 'closed', got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            raise ClinicConfigError(f"clinic.yml field 'hours.{day}' has an impossible time: {value!r}") from None
        if end <= start:
            raise ClinicConfigError(f"clinic.yml field 'hours.{day}' closes before it opens: {value!r}")
        hours[day] = (start, end)
    return hours


def parse(data, source: str = "clinic.yml") -> Clinic:
    if not isinstance(data, dict):
        raise ClinicConfigError(f"{source} must be a mapping of fields (name, address, phone, ...)")
    values = {}
    for key in REQUIRED_TEXT:
        value = data.get(key)
        if value is None or not str(value).strip():
            raise ClinicConfigError(f"{source} field '{key}' is missing or empty")
        values[key] = str(value).strip()
    if len(re.sub(r"\D", "", values["phone"])) not in (10, 11):
        raise ClinicConfigError(f"{source} field 'phone' must be a 10-digit phone number, got {values['phone']!r}")
    if not _EMAIL_RE.match(values["email"]):
        raise ClinicConfigError(f"{source} field 'email' is not an email address: {values['email']!r}")
    timezone = str(data.get("timezone") or "America/New_York")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:
        raise ClinicConfigError(f"{source} field 'timezone' is not a known time zone: {timezone!r}") from None
    return Clinic(
        website=str(data.get("website") or "").strip(),
        timezone=timezone,
        hours=_parse_hours(data.get("hours", {})),
        **values,
    )


def clinic_file() -> Path:
    return Path(os.environ.get("CLINIC_FILE") or DEFAULT_CLINIC_FILE)


def load(path: Optional[Path] = None) -> Clinic:
    """Read and validate the clinic file (CLINIC_FILE env var, else clinic.yml at the root)."""
    path = Path(path) if path else clinic_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ClinicConfigError(f"cannot read clinic file {path}: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ClinicConfigError(f"{path} is not valid YAML: {e}") from None
    return parse(data, source=str(path.name))
