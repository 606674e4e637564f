"""Segmentation: one quiet jieba tokenizer per process, with the domain's words."""

from __future__ import annotations

import threading
from pathlib import Path

from routing import segment


def test_the_tokenizer_is_built_once_and_shared_across_threads():
    seen = []
    barrier = threading.Barrier(6)

    def use() -> None:
        barrier.wait()
        seen.append(segment.tokenizer())

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(tk) for tk in seen}) == 1
    assert segment.tokenizer() is seen[0]


def test_domain_words_and_place_names_stay_whole():
    words = segment.cut("威宁县哈喇河镇的贫困户说拖欠工资和易地扶贫搬迁的事")
    for word in ("哈喇河镇", "贫困户", "拖欠工资", "易地扶贫搬迁"):
        assert word in words


def test_jieba_cache_lives_under_the_routing_temp_dir():
    tk = segment.tokenizer()
    assert Path(tk.tmp_dir) == segment.CACHE_DIR
    assert segment.CACHE_DIR.name == "hotline-routing"


def test_loading_prints_nothing(capfd):
    segment.reset_for_tests()
    segment.cut("重新加载分词词典")
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_full_width_text_is_normalized():
    assert segment.normalize("１２３３３ＡＢ") == "12333ab"
