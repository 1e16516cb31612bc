"""Synthetic Chinese names: people, roads, communities, phone numbers.

Everything here is made up. Surnames follow their rough national frequency so a name list looks
ordinary; given names are drawn from character pools, so the combinations are arbitrary. Nothing is
meant to match a real person, road or community.
"""

from __future__ import annotations

import numpy as np

STREET_NAME = "示范街道（模拟）"
"""The synthetic street office; the suffix 模拟 marks every derived name as made up."""

COMMUNITY_NAMES = (
    "星河社区",
    "锦绣社区",
    "丹桂社区",
    "晴川社区",
    "柳岸社区",
    "竹溪社区",
    "芳洲社区",
    "云帆社区",
    "景明社区",
    "书香社区",
    "安澜社区",
    "梧桐社区",
    "春晓社区",
    "雅韵社区",
    "青禾社区",
    "拾光社区",
)

# Surnames with weights roughly following their national frequency (per cent, rounded).
_SURNAMES = (
    ("王", 7.1),
    ("李", 7.0),
    ("张", 6.7),
    ("刘", 5.4),
    ("陈", 4.5),
    ("杨", 3.1),
    ("黄", 2.2),
    ("赵", 2.0),
    ("吴", 2.0),
    ("周", 1.9),
    ("徐", 1.7),
    ("孙", 1.5),
    ("马", 1.4),
    ("朱", 1.3),
    ("胡", 1.3),
    ("郭", 1.1),
    ("何", 1.1),
    ("林", 1.0),
    ("高", 1.0),
    ("罗", 0.9),
    ("郑", 0.9),
    ("梁", 0.8),
    ("谢", 0.8),
    ("宋", 0.7),
    ("唐", 0.7),
    ("许", 0.7),
    ("韩", 0.6),
    ("冯", 0.6),
    ("邓", 0.6),
    ("曹", 0.6),
    ("沈", 0.5),
    ("蒋", 0.5),
    ("叶", 0.5),
    ("潘", 0.4),
    ("方", 0.4),
    ("金", 0.4),
    ("钱", 0.3),
    ("俞", 0.3),
    ("楼", 0.2),
    ("应", 0.2),
)
_GIVEN_MALE = tuple("伟强军磊勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆峰建国志文博晨阳东林海")
_GIVEN_FEMALE = tuple("芳娜敏静丽艳娟霞秀燕玲婷雪琳慧颖洁倩萍红梅莉佳怡欣悦琴丹蕾月")
_GIVEN_SHARED = tuple("晓佳子思雨嘉一梓欣宁安明文春秋云")

_ROAD_FIRST = tuple("文兴华安和明德新春秋云霞泰康宁丰长平景瑞祥振望桂梅竹柳星锦嘉启")
_ROAD_SECOND = tuple("源华兴盛和福乐宁民安信达远泽光辉晖湾苑通")

_MOBILE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "187",
    "188",
    "189",
    "198",
    "199",
)


def person_names(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """One synthetic full name per entry of ``female`` (bool array): surname + 1 or 2 given characters."""
    n = len(female)
    chars, weights = zip(*_SURNAMES)
    p = np.asarray(weights) / np.sum(weights)
    surname = rng.choice(np.asarray(chars), size=n, p=p)
    first = np.where(female, rng.choice(np.asarray(_GIVEN_FEMALE), size=n), rng.choice(np.asarray(_GIVEN_MALE), size=n))
    second_pool = np.where(
        female, rng.choice(np.asarray(_GIVEN_FEMALE), size=n), rng.choice(np.asarray(_GIVEN_MALE), size=n)
    )
    leading = rng.choice(np.asarray(_GIVEN_SHARED), size=n)
    style = rng.random(n)  # 30 % one given character, 35 % shared+gendered, 35 % two gendered
    given = np.where(
        style < 0.30, first, np.where(style < 0.65, np.char.add(leading, first), np.char.add(first, second_pool))
    )
    # two identical gendered characters (丽丽) read as a nickname; use the shared pool's instead
    doubled = (style >= 0.65) & (first == second_pool)
    given = np.where(doubled, np.char.add(leading, first), given)
    return np.char.add(surname, given).astype(object)


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct synthetic 11-digit mainland mobile numbers (masked before display)."""
    prefixes = rng.choice(np.asarray(_MOBILE_PREFIXES), size=n)
    # draw without replacement so no two workers share a number
    suffixes = rng.choice(100_000_000, size=n, replace=False)
    return np.char.add(prefixes, np.char.zfill(suffixes.astype(str), 8)).astype(object)


def road_names(rng: np.random.Generator, n_east_west: int, n_north_south: int) -> tuple[list, list]:
    """Distinct road names: east–west roads end in 路, north–south ones in 街."""
    pairs = [a + b for a in _ROAD_FIRST for b in _ROAD_SECOND if a != b]
    order = rng.permutation(len(pairs))
    needed = n_east_west + n_north_south
    if needed > len(pairs):
        raise ValueError(f"only {len(pairs)} road names available, {needed} requested")
    chosen = [pairs[i] for i in order[:needed]]
    return ([f"{s}路" for s in chosen[:n_east_west]], [f"{s}街" for s in chosen[n_east_west:]])


def chinese_ordinal(k: int) -> str:
    """1 → 一, 12 → 十二 (enough for team and branch numbers up to 99)."""
    digits = "零一二三四五六七八九"
    if k < 10:
        return digits[k]
    tens, ones = divmod(k, 10)
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")
