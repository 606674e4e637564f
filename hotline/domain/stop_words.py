"""Stop words (停用词): the words left out when a text is reduced to what it is about.

One list in three parts, each read where it applies:

- FUNCTION_WORDS say nothing in any Chinese text (particles, pronouns, conjunctions, fillers,
  greetings and thanks). Every reader leaves them out: the duplicate finder's similarity
  (routing.similarity), the knowledge-base search (hotline.knowledge), the hot-issue terms
  (hotline.reports.hot).
- LETTER_WORDS are in nearly every message to a hotline (反映, 咨询, 问题, 情况): they say
  nothing about the matter. The knowledge search and the hot terms leave them out.
- QUESTION_WORDS ask (哪些, 多少, 能不能): left out of a question looked up in the knowledge
  base.
- REPORT_WORDS name who and where every letter is about (部门, 政府, 企业, 村里, 今年): in a
  question they narrow the search, in a report they say nothing about what is rising, so only
  the hot terms leave them out.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _words("""
    的 了 是 我 我们 你 你们 他 他们 她 它 这 那 这个 那个 这些 那些 自己 就 都 也 还 又 在 和 与 及 或 把 被 给 让 对 向 从 到 为 为了 于 以
    及其 而 但 但是 可是 因为 所以 如果 虽然 然后 还是 或者 以及 而且 关于 对于 由于 通过 根据 按照 一个 一些 一下 一半 有 没有 没 不 不是 不能 不会
    能够 应该 进行 导致 造成 无法 么 嗯 啊 呀 吧 呢 吗 哦 哈 嘛 喂 哎 唉 就是 就是说 那么 这么 什么 怎么 为什么 如何 是否 一直 已经 现在 目前 至今
    今天 您好 你好 谢谢 麻烦 请 要 想 会 能 可以 说 去 来 上 下 里 中 个 些 很 太 非常 比较 再 才 只 等 请问
""")

LETTER_WORDS = _words("""
    反映 咨询 问题 情况 帮助 帮忙 需要 希望 请求 要求 本人 多次 迟迟 尽快
""")

QUESTION_WORDS = _words("""
    问 想问 哪 哪个 哪些 哪里 多少 怎样 怎么办 能否 能不能 可不可以
""")

REPORT_WORDS = _words("""
    相关 有关 部门 单位 公司 企业 有限公司 有限责任公司 领导 政府 解决 处理 协调 办理 工作 时候 时间 今年 去年 多年 几年 我家 我村 我们村 村里 地方 省长
    直通车 热线 电话 来电 来信 留言 市民 群众 老百姓 同志 先生 女士
""")

# What the knowledge-base search leaves out of a question.
QUESTION_STOP_WORDS = FUNCTION_WORDS | LETTER_WORDS | QUESTION_WORDS
# What the hot-issue report leaves out of the terms it counts.
REPORT_STOP_WORDS = FUNCTION_WORDS | LETTER_WORDS | REPORT_WORDS
