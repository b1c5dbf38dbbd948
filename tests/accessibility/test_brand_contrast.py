"""Readable text on any brand colour: white or near-black, whichever reaches WCAG AA."""

import pytest
from django.template import Context, Template

from csp_portal.brand import (
    AA_NORMAL_TEXT,
    NEAR_BLACK,
    PAGE_BACKGROUND,
    WHITE,
    contrast_ratio,
    ink,
    text_on,
)


@pytest.mark.parametrize(
    ("brand", "expected"),
    [
        ("#0b6e4f", WHITE),  # dark green
        ("#0a5cad", WHITE),  # the default blue
        ("#000000", WHITE),
        ("#ffd200", NEAR_BLACK),  # signal yellow
        ("#f5f5f5", NEAR_BLACK),  # near-white
        ("#7fdbff", NEAR_BLACK),  # light blue
        ("#ff7f00", NEAR_BLACK),  # orange: white reaches only 2.6:1
        ("#FFF", NEAR_BLACK),  # short form, upper case
    ],
)
def test_the_text_colour_that_reaches_aa_is_chosen(brand, expected):
    assert text_on(brand) == expected
    assert contrast_ratio(brand, text_on(brand)) >= AA_NORMAL_TEXT


def test_contrast_ratio_matches_the_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("brand", ["#ffd200", "#7fdbff", "#0b6e4f", "#ff7f00"])
def test_ink_is_the_brand_darkened_until_it_reads_on_the_page(brand):
    assert contrast_ratio(ink(brand), PAGE_BACKGROUND) >= AA_NORMAL_TEXT


def test_a_dark_brand_is_its_own_ink():
    assert ink("#0b6e4f") == "#0b6e4f"


def test_the_template_tag_writes_the_three_properties_and_nothing_else():
    template = Template("{% load brand %}{% brand_css_vars colour %}")

    light = template.render(Context({"colour": "#ffd200"}))
    hostile = template.render(Context({"colour": "red;} body{display:none"}))

    assert light.startswith("--brand: #ffd200; --brand-contrast: #111827; --brand-ink: #")
    assert hostile == "--brand: #0a5cad; --brand-contrast: #ffffff; --brand-ink: #0a5cad;"
