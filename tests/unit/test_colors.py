import pytest

from app.colors import DARK_TEXT, LIGHT_TEXT, contrast_ratio, readable_text_on, relative_luminance


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WebAIM's checker: #777777 on white is 4.48:1.
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#635bff", "#ffffff") == pytest.approx(contrast_ratio("#ffffff", "#635bff"))


@pytest.mark.parametrize(
    ("background", "text"),
    [("#635bff", LIGHT_TEXT), ("#0a2540", LIGHT_TEXT), ("#ffd700", DARK_TEXT), ("#ffffff", DARK_TEXT)],
)
def test_readable_text_picks_the_stronger_contrast(background: str, text: str) -> None:
    assert readable_text_on(background) == text


@pytest.mark.parametrize("bad", ["635bff", "#635bf", "#gggggg", "red", "#635bff;"])
def test_only_validated_hex_colours_are_accepted(bad: str) -> None:
    with pytest.raises(ValueError, match="#rrggbb"):
        relative_luminance(bad)
