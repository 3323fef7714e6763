"""Tests of transforms.text: word counting in spaced and unspaced scripts, line keys."""

import pytest

from newsbeam.transforms.language import covers, detect_language, english_rules_apply
from newsbeam.transforms.text import has_words, letter_words, line_key, word_count


@pytest.mark.parametrize("text,words", [
    ("The U.S. economy didn't grow - at all.", 7),
    ("Der Umsatz stieg um 3,5 Prozent.", 6),
    ("한국은행은 기준금리를 동결했다.", 3),  # Korean separates words with spaces
    ("", 0),
    ("— · —", 0),
])
def test_word_count_of_spaced_scripts_counts_tokens(text, words):
    assert word_count(text) == words


def test_word_count_of_unspaced_scripts_counts_two_characters_a_word():
    assert word_count("新闻发布会") == 3            # one run of 5 characters: ceil(5 / 2)
    assert word_count("你好，世界。") == 2          # punctuation ends a run
    assert word_count("苹果发布iPhone新机") == 4    # 苹果发布 (2), iPhone (1), 新机 (1)
    assert word_count("2024年3月") == 4             # numbers between runs are words of their own
    assert word_count("東京都は十日、新しい計画を発表した。") == 3 + 5  # kanji and kana alike


@pytest.mark.parametrize("segmented", [
    # Segmented by hand into words (Chinese) and short-unit words (Japanese).
    "国家统计局/周二/公布/的/数据/显示/，/今年/前/十/个/月/全国/新能源/汽车/产量/同比/增长/三成/以上/。",
    "业内/人士/认为/，/充电/设施/的/普及/和/电池/成本/的/下降/是/销量/增长/的/主要/原因/。",
    "東京/都/は/十/日/、/首都/直下/地震/に/備え/た/新しい/防災/計画/を/発表/し/た/。",
    "知事/は/記者/会見/で/「/都民/の/命/を/守る/ため/」/と/述べ/た/。",
])
def test_unspaced_count_is_close_to_the_real_number_of_words(segmented):
    words = [w for w in segmented.split("/") if w not in "，。、「」"]
    assert abs(word_count(segmented.replace("/", "")) - len(words)) <= 0.25 * len(words)


def test_has_words_agrees_with_word_count():
    for text in ("The U.S. economy", "新闻发布会上，部长说", "東京都は十日", "abc 新闻 123"):
        n = word_count(text)
        assert has_words(text, n)
    assert has_words("新闻发布会", 3) and not has_words("新闻发布会", 4)
    assert not has_words("新闻", 2) and has_words("", 0)


def test_letter_words_splits_unspaced_runs_like_word_count():
    zh = "业内人士认为，充电设施的普及是销量增长的主要原因。"
    assert len(letter_words(zh)) == word_count(zh)
    assert letter_words("新闻发布会") == ["新闻", "发布", "会"]
    # Latin text is split as before: letters with inner apostrophes, numbers with their unit.
    assert letter_words("Don't pay 10km, l’eau!") == ["Don't", "pay", "10km", "l’eau"]


def test_line_key_ignores_punctuation_and_spacing_in_every_script():
    assert line_key("你好，世界！") == line_key("你好 世界") == line_key("你好世界")
    assert line_key("東京都、新計画を発表") == line_key("東京都 新計画を発表。")
    assert line_key("你好世界") != line_key("你好世")
    assert line_key("Hello, World!") == line_key("hello world") == "hello world"


@pytest.mark.parametrize("text,language", [
    ("Der Onlinehändler hat im dritten Quartal weniger umgesetzt, als Analysten erwartet hatten.", "de"),
    ("Le gouvernement a annoncé mardi un nouveau plan pour soutenir les agriculteurs touchés.", "fr"),
    ("国家统计局周二公布的数据显示，今年前十个月全国新能源汽车产量同比增长三成以上。", "zh"),
    ("東京都は十日、首都直下地震に備えた新しい防災計画を発表した。", "ja"),
    ("The city council approved a new tram line to the airport on Monday.", "en"),
    ("Too short", "und"),
])
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_which_rules_and_resources_cover_a_language():
    assert english_rules_apply("en") and english_rules_apply(None) and english_rules_apply("und")
    assert not english_rules_apply("de") and not english_rules_apply("zh")
    assert covers(["en"], "en") and covers(["en"], "und") and covers(["en"], None)
    assert not covers(["en"], "de") and covers(["xx"], "de") and covers(["en", "de"], "de")


def test_shingle_tokens_split_unspaced_scripts_into_characters():
    from newsbeam.transforms.text import shingle_tokens

    assert shingle_tokens("the price rose 3.5% to 10,000") == ["the", "price", "rose", "3.5", "to", "10,000"]
    assert shingle_tokens("价格3.5元上涨") == ["价", "格", "3.5", "元", "上", "涨"]
    # One changed character changes one character token, not the whole sentence.
    a, b = shingle_tokens("北京今天发布了新的空气质量报告"), shingle_tokens("北京今天发布了新的空气质量报吿")
    assert len(a) == len(b) == 15 and sum(x != y for x, y in zip(a, b)) == 1
