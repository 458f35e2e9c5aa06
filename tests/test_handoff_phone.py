"""US phone numbers typed by people: accepted in their usual shapes, refused with a reason otherwise."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.phone import Problem, format_us, parse_us_phone


@pytest.mark.parametrize(
    "text",
    [
        "(419) 555-0142",
        "419.555.0142",
        "4195550142",
        "+1 419 555 0142",
        "1-419-555-0142",
        "+1 (419) 555-0142",
        "(419)555-0142",
        "419 555 0142",
        "419/555/0142",
        "my number is 419-555-0142 thanks",
        "call me at 419 555 0142 after 5pm",
        "cell: 419-555-0142.",
        "419-555-0142 ext 12",
    ],
)
def test_common_us_formats_normalise_to_e164(text):
    result = parse_us_phone(text)
    assert result.ok, result
    assert result.e164 == "+14195550142"


@pytest.mark.parametrize(
    "text,problem",
    [
        ("555-0142", Problem.TOO_SHORT),
        ("419-555-01", Problem.TOO_SHORT),
        ("12345", Problem.TOO_SHORT),
        ("41955501423", Problem.TOO_LONG),
        ("1419555014234", Problem.TOO_LONG),
        ("419-555-CALL", Problem.LETTERS),
        ("41955501OO", Problem.LETTERS),
        ("4195550142abc", Problem.LETTERS),
        ("+44 20 7946 0958", Problem.NOT_US),
        ("+33 1 23 45 67 89", Problem.NOT_US),
        ("(019) 555-0142", Problem.INVALID),  # area codes never start with 0 or 1
        ("(419) 155-0142", Problem.INVALID),  # nor do exchanges
        ("911-555-0142", Problem.INVALID),  # N11 codes are services
        ("four one nine five five five", Problem.MISSING),
        ("", Problem.MISSING),
        ("I don't want to give it", Problem.MISSING),
    ],
)
def test_unusable_numbers_say_why(text, problem):
    result = parse_us_phone(text)
    assert not result.ok
    assert result.problem == problem


def test_the_first_usable_number_wins():
    assert parse_us_phone("cell 419 555 0142 or home 419 555 0199").e164 == "+14195550142"
    assert parse_us_phone("419-555-01 sorry I mean 419-555-0199").e164 == "+14195550199"


def test_format_us_reads_back_the_way_people_write_numbers():
    assert format_us("+14195550142") == "(419) 555-0142"
    assert format_us("garbage") == "garbage"


@given(
    area=st.integers(200, 999).filter(lambda n: n % 100 != 11),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    style=st.sampled_from(["({a}) {e}-{l}", "{a}.{e}.{l}", "{a}{e}{l}", "+1 {a} {e} {l}", "1-{a}-{e}-{l}", "{a}-{e}-{l}"]),
)
def test_any_valid_nanp_number_round_trips_in_any_common_style(area, exchange, line, style):
    text = style.format(a=area, e=exchange, l=f"{line:04d}")
    result = parse_us_phone(text)
    assert result.e164 == f"+1{area}{exchange}{line:04d}", text
    assert parse_us_phone(format_us(result.e164)).e164 == result.e164


@given(st.text(max_size=80))
def test_any_text_gets_a_number_or_a_reason_and_never_crashes(text):
    result = parse_us_phone(text)
    assert result.ok != (result.problem is not None)
    if result.ok:
        assert result.e164.startswith("+1") and len(result.e164) == 12
