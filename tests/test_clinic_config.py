"""clinic.yml: every mistake in the file stops start-up with a message naming the field."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import clinic
from bot.clinic import ClinicConfigError

NY = ZoneInfo("America/New_York")
WEEKDAYS_8_TO_430 = {day: "08:00-16:30" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def valid() -> dict:
    """A complete test clinic (made-up details, fictional 555-01xx number)."""
    return {
        "name": "Test Spine Clinic",
        "address": "1 Test Road, Testville, OH 45000",
        "phone": "(419) 555-0100",
        "email": "desk@test-clinic.example",
        "website": "https://test-clinic.example/",
        "timezone": "America/New_York",
        "hours": {**WEEKDAYS_8_TO_430, "saturday": "closed", "sunday": "closed"},
        "emergency_number": "911",
        "crisis_line": "988",
    }


def write(tmp_path, data, name="clinic.yml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def error_for(tmp_path, data) -> str:
    with pytest.raises(ClinicConfigError) as raised:
        clinic.load(write(tmp_path, data))
    return str(raised.value)


def test_the_shipped_clinic_file_is_valid_and_has_every_contact_detail():
    values = clinic.load().template_values()
    for key in ("clinic_name", "clinic_address", "clinic_phone", "clinic_email", "clinic_hours"):
        assert values[key].strip(), key
    assert values["clinic_phone_e164"].startswith("+1") and len(values["clinic_phone_e164"]) == 12
    assert values["emergency_number"] == "911" and values["crisis_line"] == "988"


def test_a_valid_file_loads_with_its_values(tmp_path):
    loaded = clinic.load(write(tmp_path, valid()))
    values = loaded.template_values()
    assert values["clinic_name"] == "Test Spine Clinic"
    assert values["clinic_phone"] == "(419) 555-0100"
    assert values["clinic_phone_e164"] == "+14195550100"
    assert values["clinic_email"] == "desk@test-clinic.example"
    assert values["clinic_website"] == "https://test-clinic.example/"


@pytest.mark.parametrize("field", ["name", "address", "phone", "email", "emergency_number", "crisis_line", "hours"])
def test_each_missing_required_field_is_named(tmp_path, field):
    data = valid()
    del data[field]
    message = error_for(tmp_path, data)
    assert f"'{field}'" in message and "missing" in message
    assert str(tmp_path / "clinic.yml") in message  # which file to fix


@pytest.mark.parametrize("field", ["name", "address", "phone", "email"])
def test_empty_fields_are_named(tmp_path, field):
    data = valid()
    data[field] = "   "
    assert f"'{field}'" in error_for(tmp_path, data)


def test_broken_yaml_says_so(tmp_path):
    message = error_for(tmp_path, 'name: "Unclosed\nphone: [1, 2\n')
    assert "not valid YAML" in message


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    assert "mapping" in error_for(tmp_path, "- just\n- a list\n")


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(ClinicConfigError, match="cannot read clinic file"):
        clinic.load(tmp_path / "nope.yml")


def test_an_unknown_field_is_named_so_typos_are_caught(tmp_path):
    data = valid()
    data["webiste"] = data.pop("website")
    assert "'webiste'" in error_for(tmp_path, data)


@pytest.mark.parametrize("phone", ["12", "555-0100", "(419) 555-01000", "+44 20 7946 0958", "call us", "(019) 555-0100"])
def test_a_bad_phone_is_named(tmp_path, phone):
    data = valid()
    data["phone"] = phone
    message = error_for(tmp_path, data)
    assert "'phone'" in message and repr(phone) in message


@pytest.mark.parametrize("phone", ["419-555-0100", "419.555.0100", "4195550100", "+1 419 555 0100", "1-419-555-0100"])
def test_common_phone_formats_are_accepted_and_normalised(tmp_path, phone):
    data = valid()
    data["phone"] = phone
    assert clinic.load(write(tmp_path, data)).phone_e164 == "+14195550100"


@pytest.mark.parametrize("email", ["desk.test-clinic.example", "desk@", "desk@clinic", "two words@clinic.example"])
def test_a_bad_email_is_named(tmp_path, email):
    data = valid()
    data["email"] = email
    assert "'email'" in error_for(tmp_path, data)


@pytest.mark.parametrize("website", ["test-clinic.example", "ftp://test-clinic.example", "https://", "https://no spaces.example"])
def test_a_bad_website_is_named(tmp_path, website):
    data = valid()
    data["website"] = website
    assert "'website'" in error_for(tmp_path, data)


def test_the_website_is_optional(tmp_path):
    data = valid()
    del data["website"]
    assert clinic.load(write(tmp_path, data)).template_values()["clinic_website"] == ""


@pytest.mark.parametrize("field,value", [("emergency_number", "9-1-1"), ("emergency_number", "call 911"), ("crisis_line", "98")])
def test_bad_emergency_and_crisis_numbers_are_named(tmp_path, field, value):
    data = valid()
    data[field] = value
    assert f"'{field}'" in error_for(tmp_path, data)


def test_an_unknown_time_zone_is_named(tmp_path):
    data = valid()
    data["timezone"] = "Ohio/Findlay"
    assert "'timezone'" in error_for(tmp_path, data)


@pytest.mark.parametrize(
    "day,value,expected",
    [
        ("monday", "8-4", "hours.monday"),
        ("monday", "25:00-26:00", "hours.monday"),
        ("tuesday", "16:30-08:00", "closes before it opens"),
        ("wednesday", "", "hours.wednesday"),
        ("thursday", None, "hours.thursday"),
    ],
)
def test_bad_hours_name_the_day(tmp_path, day, value, expected):
    data = valid()
    data["hours"][day] = value
    assert expected in error_for(tmp_path, data)


def test_a_misspelled_or_missing_weekday_is_named(tmp_path):
    data = valid()
    data["hours"]["wendesday"] = data["hours"].pop("wednesday")
    assert "hours.wendesday" in error_for(tmp_path, data)
    data["hours"].pop("wendesday")
    assert "hours.wednesday" in error_for(tmp_path, data)


def test_a_clinic_that_is_never_open_is_refused(tmp_path):
    data = valid()
    data["hours"] = {day: "closed" for day in data["hours"]}
    assert "no open day" in error_for(tmp_path, data)


def test_closed_days_accept_closed_in_any_case_and_yaml_off(tmp_path):
    text = yaml.safe_dump({k: v for k, v in valid().items() if k != "hours"})
    text += "hours:\n" + "".join(f"  {d}: '08:00-16:30'\n" for d in WEEKDAYS_8_TO_430) + "  saturday: CLOSED\n  Sunday: off\n"
    loaded = clinic.load(write(tmp_path, text))
    assert loaded.hours["saturday"] is None and loaded.hours["sunday"] is None


def test_hours_text_groups_days_and_skips_closed_ones(tmp_path):
    data = valid()
    data["hours"]["friday"] = "08:00-12:00"
    data["hours"]["saturday"] = "09:30-11:00"
    text = clinic.load(write(tmp_path, data)).hours_text()
    assert text == "Monday to Thursday, 8 am to 4:30 pm; Friday, 8 am to 12 pm; Saturday, 9:30 am to 11 am"
    assert "Sunday" not in text


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=NY)


@pytest.mark.parametrize(
    "now,expected_opening,expected_text",
    [
        ("2024-06-12 10:15", "2024-06-12 10:15", "today at 10:15 am"),  # Wednesday, open: now
        ("2024-06-12 07:00", "2024-06-12 08:00", "today at 8 am"),  # before opening
        ("2024-06-12 16:30", "2024-06-13 08:00", "tomorrow at 8 am"),  # closing time is closed
        ("2024-06-14 17:00", "2024-06-17 08:00", "on Monday at 8 am"),  # Friday evening → Monday
        ("2024-06-15 12:00", "2024-06-17 08:00", "on Monday at 8 am"),  # Saturday
        ("2024-06-16 23:59", "2024-06-17 08:00", "tomorrow at 8 am"),  # Sunday night
    ],
)
def test_next_opening_across_evenings_and_weekends(now, expected_opening, expected_text):
    loaded = clinic.parse(valid())
    assert loaded.next_opening(_at(now)) == _at(expected_opening)
    assert loaded.next_opening_text(_at(now)) == expected_text
    assert loaded.is_open(_at(now)) == (now == expected_opening)


def test_next_opening_converts_other_time_zones_to_clinic_time():
    loaded = clinic.parse(valid())
    # 13:00 UTC on a Saturday is 9 am in Ohio: still closed until Monday.
    utc_saturday = datetime(2024, 6, 15, 13, 0, tzinfo=ZoneInfo("UTC"))
    assert loaded.next_opening(utc_saturday) == _at("2024-06-17 08:00")
    # 14:00 UTC on a Wednesday is 10 am in Ohio: open.
    assert loaded.is_open(datetime(2024, 6, 12, 14, 0, tzinfo=ZoneInfo("UTC")))


def test_clinic_file_env_var_overrides_the_default(tmp_path, monkeypatch):
    path = write(tmp_path, valid(), name="other_clinic.yml")
    monkeypatch.setenv("CLINIC_FILE", str(path))
    assert clinic.clinic_file() == path
    assert clinic.load().name == "Test Spine Clinic"
    monkeypatch.setenv("CLINIC_FILE", str(tmp_path / "missing.yml"))
    with pytest.raises(ClinicConfigError, match="missing.yml"):
        clinic.load()
