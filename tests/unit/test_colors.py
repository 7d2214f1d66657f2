import pytest

from app.colors import (
    DARK_TEXT,
    LIGHT_TEXT,
    contrast_ratio,
    readable_color_on,
    readable_text_on,
    relative_luminance,
)


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


def test_one_of_the_two_text_colours_is_readable_on_any_background() -> None:
    greys = [f"#{value:02x}{value:02x}{value:02x}" for value in range(256)]
    hues = [
        f"#{red:02x}{green:02x}{blue:02x}" for red in (0, 128, 219, 255) for green in (0, 128, 255) for blue in (0, 219)
    ]
    assert min(contrast_ratio(color, readable_text_on(color)) for color in greys + hues) >= 4.5


@pytest.mark.parametrize("color", ["#635bff", "#ffd700", "#00c2ff", "#ff7a59", "#ffffff", "#777777"])
def test_readable_colour_keeps_readable_brands_and_darkens_light_ones(color: str) -> None:
    readable = readable_color_on(color)
    assert contrast_ratio(readable, "#ffffff") >= 4.5
    if contrast_ratio(color, "#ffffff") >= 4.5:
        assert readable == color
    else:
        assert relative_luminance(readable) < relative_luminance(color)


def test_readable_colour_on_a_dark_background_lightens() -> None:
    readable = readable_color_on("#1a237e", "#0a2540")
    assert contrast_ratio(readable, "#0a2540") >= 4.5
