"""Errors carry their reason last, and every value in them is safe to echo."""

from xsovs_common import errors


def test_safe_text_escapes_control_characters_and_replaces_invalid_unicode():
    assert errors.safe_text("ssl:192.0.2.1:6632") == "ssl:192.0.2.1:6632"
    assert errors.safe_text("a\x00b\nc\td\re\x1f\x7f\x9f") == "a\\x00b\\nc\\td\\re\\x1f\\x7f\\x9f"
    assert errors.safe_text("\ud800x\udfff\ufffe\uffff") == "\ufffdx\ufffd\ufffd\ufffd"
    assert errors.safe_text("é 𝄞 \u2028") == "é 𝄞 \u2028"        # valid Unicode stays
    assert errors.safe_text("a\nb\tc\x00", keep="\n\t") == "a\nb\tc\\x00"
    assert errors.safe_text(6632) == "6632"


def test_an_error_makes_its_code_params_and_message_safe():
    exc = errors.InvalidValue("invalid MAC '02:00\x00'", params=["MAC", "02:00\x00\ud800"],
                              code="BAD\nCODE")
    assert exc.error_description() == ["BAD\\nCODE", "MAC", "02:00\\x00\ufffd",
                                       "invalid MAC '02:00\\x00'"]
    assert str(exc) == exc.message == "invalid MAC '02:00\\x00'"
