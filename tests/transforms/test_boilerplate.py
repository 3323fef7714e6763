"""The line vocabulary of ``transforms.boilerplate``."""

import pytest

from newsbeam.transforms.boilerplate import boilerplate_reason


@pytest.mark.parametrize("line", [
    "Your email address will not be published. Required fields are marked *",
    "Maria Lindqvist can be reached at maria@courier.example.org.",
    "Sign up for our daily newsletter to get the top stories every morning.",
    "© 2023 Coastal Courier. All rights reserved.",
    "Follow Maria on Twitter",
])
def test_footer_phrases_in_short_lines_are_boilerplate(line):
    assert boilerplate_reason(line) is not None


@pytest.mark.parametrize("line", [
    # A report about a privacy policy is not a page footer.
    "Facebook changed its privacy policy on Tuesday, letting advertisers see more of what users "
    "post, the company said in a statement.",
    # A paragraph ending in a call to follow an account is still the article's paragraph.
    "During each week of the season we will collect and curate the best photos from our "
    "photographers. Here are our picks for Week 8. Follow @NFL on Instagram.",
])
def test_footer_phrases_inside_prose_paragraphs_are_kept(line):
    assert boilerplate_reason(line) is None
