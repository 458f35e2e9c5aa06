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
from bot.phone import parse_us_phone

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SPANISH_DAYS = dict(zip(DAYS, ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")))
REQUIRED_TEXT = ("name", "address", "phone", "email", "emergency_number", "crisis_line")
OPTIONAL_FIELDS = ("website", "timezone", "hours")
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEBSITE_RE = re.compile(r"^https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d+)?(/\S*)?$", re.I)
_SHORT_NUMBER_RE = re.compile(r"^\d{3}$")  # 911, 988: dialled as they are, no area code


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
        return parse_us_phone(self.phone).e164 or ""

    def hours_text(self, language: str = "en") -> str:
        """Office hours in plain words, grouping days with the same times (English or Spanish)."""
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
            if language == "es":
                names = [SPANISH_DAYS[d] for d in days]
                label = names[0] if len(names) == 1 else f"{names[0]} a {names[-1]}"
                parts.append(f"{label}, de {span[0]:%H:%M} a {span[1]:%H:%M}")
            else:
                label = days[0].title() if len(days) == 1 else f"{days[0].title()} to {days[-1].title()}"
                parts.append(f"{label}, {_clock(span[0])} to {_clock(span[1])}")
        if not parts:
            return "con cita previa" if language == "es" else "by appointment"
        return "; ".join(parts)

    def next_opening(self, now: datetime) -> datetime:
        """When the clinic is next open (now, if it is open), in the clinic's local time."""
        local = self._local(now)
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
        return local  # unreachable for a validated clinic: at least one day is open

    def is_open(self, now: datetime) -> bool:
        return self.next_opening(now) == self._local(now)

    def next_opening_text(self, now: datetime, language: str = "en") -> str:
        """The next opening in words relative to `now`: "today at 8 am", "tomorrow at 8 am", "on Monday at
        8 am"; in Spanish "hoy a las 08:00", "mañana a las 08:00", "el lunes a las 08:00"."""
        opening = self.next_opening(now)
        days_ahead = (opening.date() - self._local(now).date()).days
        day = DAYS[opening.weekday()]
        if language == "es":
            relative = ("hoy", "mañana")[days_ahead] if days_ahead < 2 else f"el {SPANISH_DAYS[day]}"
            return f"{relative} a las {opening:%H:%M}"
        relative = ("today", "tomorrow")[days_ahead] if days_ahead < 2 else f"on {day.title()}"
        return f"{relative} at {_clock(opening.timetz().replace(tzinfo=None))}"

    def closing_time(self, now: datetime) -> Optional[time]:
        """When today's hours end, if the clinic is open at `now`."""
        if not self.is_open(now):
            return None
        today = self.hours[DAYS[self._local(now).weekday()]]
        return today[1] if today else None

    def now_values(self, now: datetime) -> Dict[str, str]:
        """Values that depend on the time of the reply: whether the office is open right now, in words
        (English and Spanish), and `clinic_open` ("open"/"closed") for response conditions."""
        closing = self.closing_time(now)
        if closing is not None:
            return {
                "clinic_open": "open",
                "clinic_now": f"The office is open now, until {_clock(closing)} today.",
                "clinic_now_es": f"La oficina está abierta ahora, hasta las {closing:%H:%M}.",
            }
        return {
            "clinic_open": "closed",
            "clinic_now": f"The office is closed right now. It opens again {self.next_opening_text(now)}.",
            "clinic_now_es": f"La oficina está cerrada ahora. Abre de nuevo {self.next_opening_text(now, 'es')}.",
        }

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(self._tz()) if now.tzinfo else now.replace(tzinfo=self._tz())

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
            "clinic_hours_es": self.hours_text("es"),
            "emergency_number": self.emergency_number,
            "crisis_line": self.crisis_line,
        }


def _clock(t: time) -> str:
    suffix = "am" if t.hour < 12 else "pm"
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {suffix}" if t.minute else f"{hour} {suffix}"


def _parse_hours(raw, source: str) -> Dict[str, Optional[Tuple[time, time]]]:
    if not isinstance(raw, dict):
        raise ClinicConfigError(f"{source} field 'hours' must map each weekday to 'HH:MM-HH:MM' or 'closed'")
    by_day = {}
    for key, value in raw.items():
        day = str(key).strip().lower()
        if day not in DAYS:
            raise ClinicConfigError(f"{source} field 'hours.{key}' is not a weekday (monday ... sunday)")
        by_day[day] = value
    hours: Dict[str, Optional[Tuple[time, time]]] = {}
    for day in DAYS:
        if day not in by_day:
            raise ClinicConfigError(f"{source} field 'hours.{day}' is missing: give 'HH:MM-HH:MM' or 'closed'")
        value = by_day[day]
        if value is False or str(value).strip().lower() == "closed":  # YAML reads a bare `off`/`no` as False
            hours[day] = None
            continue
        match = _HOURS_RE.match(str(value)) if value is not None else None
        if not match:
            raise ClinicConfigError(f"{source} field 'hours.{day}' must look like '08:00-16:30' or 'closed', got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            raise ClinicConfigError(f"{source} field 'hours.{day}' has an impossible time: {value!r}") from None
        if end <= start:
            raise ClinicConfigError(f"{source} field 'hours.{day}' closes before it opens: {value!r}")
        hours[day] = (start, end)
    if not any(hours.values()):
        raise ClinicConfigError(f"{source} field 'hours' has no open day: people would be told the clinic never answers")
    return hours


def parse(data, source: str = "clinic.yml") -> Clinic:
    """Validate the parsed YAML; every error names the field so whoever edits the file can fix it."""
    if not isinstance(data, dict):
        raise ClinicConfigError(f"{source} must be a mapping of fields (name, address, phone, ...)")
    for key in data:
        if key not in REQUIRED_TEXT + OPTIONAL_FIELDS:
            raise ClinicConfigError(
                f"{source} field '{key}' is not a known field (known: {', '.join(REQUIRED_TEXT + OPTIONAL_FIELDS)})"
            )
    values = {}
    for key in REQUIRED_TEXT:
        value = data.get(key)
        if isinstance(value, (dict, list, bool)) or value is None or not str(value).strip():
            raise ClinicConfigError(f"{source} field '{key}' is missing or empty")
        values[key] = str(value).strip()
    if not parse_us_phone(values["phone"]).ok:
        raise ClinicConfigError(f"{source} field 'phone' must be a 10-digit US phone number, got {values['phone']!r}")
    if not _EMAIL_RE.match(values["email"]):
        raise ClinicConfigError(f"{source} field 'email' is not an email address: {values['email']!r}")
    for key in ("emergency_number", "crisis_line"):
        if not _SHORT_NUMBER_RE.match(values[key]):
            raise ClinicConfigError(f"{source} field '{key}' must be a 3-digit number like 911 or 988, got {values[key]!r}")
    website = str(data.get("website") or "").strip()
    if website and not _WEBSITE_RE.match(website):
        raise ClinicConfigError(f"{source} field 'website' must be a web address starting with https://, got {website!r}")
    timezone = str(data.get("timezone") or "America/New_York")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:
        raise ClinicConfigError(f"{source} field 'timezone' is not a known time zone: {timezone!r}") from None
    if "hours" not in data:
        raise ClinicConfigError(f"{source} field 'hours' is missing: give each weekday 'HH:MM-HH:MM' or 'closed'")
    return Clinic(website=website, timezone=timezone, hours=_parse_hours(data["hours"], source), **values)


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
    return parse(data, source=str(path))
